"""How long parse_outline takes on a generated 100,000-entry reading list (about 8 MB).

Run: python bench/outline_speed.py [ENTRIES] [--mix roadmap]
The default mix is what reading lists hold: mostly `- [title](url) notes` lines on many
sites, task boxes, books, nested items and awesome-list descriptions, with a few
paper-roadmap paragraphs and bare URLs. A pure-Python loop is timed too, so a figure
from a slow or busy machine can be read against its speed.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.outline import parse_outline

WORDS = ["深度", "学习", "神经", "网络", "卷积", "梯度", "下降", "优化", "模型", "训练", "attention", "transformer",
         "layer", "batch", "norm", "loss", "residual", "learning", "for", "image", "recognition", "generative",
         "adversarial", "nets"]


def _title(rnd: random.Random) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 8)))


def _entry(rnd: random.Random, n: int, roadmap: bool) -> str:
    """One entry line (or paragraph) in one of the shapes reading lists use."""
    roll = rnd.random()
    if roadmap and roll < 0.5:
        return (f'**[{n}]** Author, A. "**{_title(rnd)}**." Venue {2000 + n % 24}. '
                f"[[pdf]](http://papers.example.org/{n}.pdf) **(Milestone)**\n")
    title = _title(rnd)
    if roll < 0.40:
        return f"- [{title}？](https://www.zhihu.com/question/{10**7 + n})"
    if roll < 0.50:
        return f"- [{title}](https://zhuanlan.zhihu.com/p/{n}?utm_source=wechat) 这个不错"
    if roll < 0.58:
        return f"- [x] [{title}](https://arxiv.org/abs/{1501 + n % 800:04d}.{n % 100000:05d}v2)"
    if roll < 0.66:
        return f"* [{title}](https://github.com/owner{n}/repo{n}) - {title}, in Python."
    if roll < 0.72:
        return f"  - [{title}](https://blog.csdn.net/user{n % 97}/article/details/{10**6 + n})"
    if roll < 0.78:
        return f"- 《{title}》 作者 {n}"
    if roll < 0.84:
        return f"- [ ] [{title}](https://www.cnblogs.com/u{n % 89}/p/{n}.html)"
    if roll < 0.89:
        return f"1. [{title}](https://medium.com/@author/{title.replace(' ', '-')}-{n:x}) by someone"
    if roll < 0.93:
        return f"- [{title}](https://example.org/{n}/) see also http://mirror.example.net/{n}"
    if roll < 0.97:
        return f"- {title} [pdf](https://papers.example.org/{n}.pdf) [code](https://github.com/o/r{n})"
    return f'**[{n}]** Author, A. "**{title}**." Venue. [[pdf]](http://papers.example.org/{n}.pdf)\n'


def generate(entries: int, roadmap: bool = False, seed: int = 7) -> str:
    """A reading list of about `entries` entries under headings, in blank-line groups."""
    rnd = random.Random(seed)
    out = ["# Reading list", ""]
    for n in range(entries):
        if n % 400 == 0:
            out.append(f"\n## Part {n // 400}\n")
        if n % 50 == 0:
            out.append(f"\n### Topic {n // 50}\n")
        elif n % 12 == 0:
            out.append("")
        out.append(_entry(rnd, n, roadmap))
    return "\n".join(out) + "\n"


def _loop_seconds() -> float:
    start, total = time.perf_counter(), 0
    for i in range(10**6):
        total += i
    return time.perf_counter() - start


def main() -> None:
    """Generate, parse three times, print the best time."""
    entries = int(next((a for a in sys.argv[1:] if a.isdigit()), "100000"))
    text = generate(entries, roadmap="roadmap" in sys.argv)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        parsed = parse_outline(text)
        best = min(best, time.perf_counter() - start)
    print(f"{len(text.encode()) / 1e6:.1f} MB, {len(parsed.entries)} entries, {len(parsed.headings)} headings: "
          f"best of 3 {best:.2f} s ({best / max(1, len(parsed.entries)) * 1e6:.0f} us/entry); "
          f"a 1M-step Python loop took {_loop_seconds() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
