"""Generate a large, realistic Markdown outline for the import benchmark."""

from __future__ import annotations

import random

HOSTS = [
    "https://www.zhihu.com/question/{n}",
    "https://zhuanlan.zhihu.com/p/{n}",
    "https://blog.csdn.net/user{m}/article/details/{n}",
    "https://www.cnblogs.com/user{m}/p/{n}.html",
    "https://github.com/owner{m}/repo{n}",
    "https://arxiv.org/abs/{y}{mm:02d}.{n5:05d}v{v}",
    "https://example{m}.org/notes/{n}?utm_source=feed",
]
WORDS = (
    "卷积神经网络", "池化", "梯度下降", "学习率", "正则化", "生成对抗网络",
    "强化学习", "图神经网络", "元学习", "自编码器",
    "attention", "residual", "network", "batch", "normalization", "dropout", "policy", "gradient", "graph",
    "convolution", "variational", "inference", "meta", "learning", "architecture", "search",
)


def generate(entries: int, seed: int = 7) -> str:
    """An outline of `entries` entries under nested headings, lists and a few tables."""
    rng = random.Random(seed)
    lines = ["# Generated outline", ""]
    for i in range(entries):
        if i % 500 == 0:
            lines += ["", f"## Part {i // 500}", ""]
        if i % 100 == 0:
            lines += ["", f"### Section {i // 100}", ""]
        n, m = 10_000_000 + i, rng.randrange(200)
        url = rng.choice(HOSTS).format(n=n, m=m, y=rng.randrange(15, 25), mm=rng.randrange(1, 13),
                                       n5=i % 100_000, v=rng.randrange(1, 4))
        title = " ".join(rng.sample(WORDS, 4)) + f" {i}"
        box = rng.choice(("", "", "[ ] ", "[x] "))
        lines.append(f"- {box}[{title}]({url}) note {rng.choice(WORDS)}")
    return "\n".join(lines) + "\n"
