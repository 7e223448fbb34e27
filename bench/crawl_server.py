"""A slow, realistic web for the crawl benchmark: N hosts (ports) on 127.0.0.1 in their own process.

Each answer waits LATENCY seconds, then sends a ~100 KB article page (unique title per path) with
keep-alive, so the crawler's cost is measured against a network bound, not against this server.
Running the server in another process keeps its CPU off the crawler's interpreter.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from typing import Any

_VOCABULARY = ("卷积神经网络 通过 局部 感受野 和 权值 共享 提取 图像 特征 反向传播 梯度 下降 损失 函数 优化器 "
               "学习率 正则化 批量 归一化 残差 连接 注意力 机制 生成 对抗 网络 判别器 生成器 强化 学习 策略 "
               "价值 函数 图 神经 网络 节点 邻居 聚合 元 学习 少样本 the model converges when the learning rate "
               "decays and the batch statistics are stable")
WORDS = _VOCABULARY.split()


def article(seed: int = 7) -> tuple[bytes, bytes]:
    """A CSDN-like article page of about 100 KB, split where each page's own title goes."""
    rng = random.Random(seed)

    def sentence(n: int) -> str:
        return "".join(rng.choice(WORDS) for _ in range(n)) + "。"

    nav = "".join(f'<li><a href="/nav/{i}">栏目{i}</a></li>' for i in range(60))
    side = "".join(f'<li><a href="/article/details/{1000 + i}" title="{sentence(4)}">{sentence(5)}</a></li>'
                   for i in range(80))
    paragraphs = []
    for i in range(150):
        paragraphs.append(f"<p>{sentence(40)}</p>")
        if i % 15 == 0:
            paragraphs.append(f"<h2 id=\"s{i}\">{sentence(3)}</h2><pre><code class=\"language-python\">"
                              + "model = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU())\n" * 8 + "</code></pre>")
        if i % 20 == 0:
            paragraphs.append(f'<p><img src="/img/{i}.png" alt="{sentence(2)}"></p>')
    script = "window.__CONFIG__ = {" + ",".join(f'"k{i}": "{"x" * 40}"' for i in range(300)) + "};"
    style = "".join(f".c{i} {{ margin: {i}px; padding: 0 {i}px; color: #333; }}\n" for i in range(150))
    head = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="description" content="{sentence(20)}"><meta name="keywords" content="深度学习,神经网络">'
        '<meta property="og:type" content="article"><meta name="author" content="learner">'
        '<meta property="article:published_time" content="2024-03-01T08:00:00+08:00">'
        '<link rel="canonical" href="https://blog.example/article/details/1">'
        f"<style>{style}</style><script>{script}</script>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Article",'
        ' "datePublished": "2024-03-01", "author": {"@type": "Person", "name": "learner"}}</script>'
        "<title>")
    tail = (
        "</title></head><body>"
        f'<header><ul class="nav">{nav}</ul></header><div class="main"><aside><ul>{side}</ul></aside>'
        f'<article class="article-content"><h1>{sentence(4)}</h1>{"".join(paragraphs)}</article></div>'
        f'<footer>{"".join(f"<a href=/about/{i}>关于{i}</a>" for i in range(40))}</footer>'
        f"<script>{script}</script></body></html>")
    return head.encode(), tail.encode()


async def _serve(ports: list[int], latency: float, ready: Any) -> None:
    head, tail = article()
    served = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                method, path = request.split(b" ", 2)[:2]
                if path != b"/__served":
                    await asyncio.sleep(latency)
                if path == b"/__served":  # how many requests were answered, for checking a run
                    status, body, ctype = b"200 OK", str(served[0]).encode(), b"text/plain"
                elif path == b"/robots.txt":
                    served[0] += 1
                    status, body, ctype = b"404 Not Found", b"none", b"text/plain"
                else:
                    served[0] += 1
                    status, ctype = b"200 OK", b"text/html; charset=utf-8"
                    body = head + b"Article " + path + tail
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + (b"" if method == b"HEAD" else body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024) for _ in ports]
    ready.send([s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.Event().wait()


def _main(hosts: int, latency: float, ready: Any) -> None:
    asyncio.run(_serve(list(range(hosts)), latency, ready))


class SlowWeb:
    """`with SlowWeb(10, 0.1) as web: web.ports` — the server process lives for the block."""

    def __init__(self, hosts: int, latency: float) -> None:
        self.hosts, self.latency = hosts, latency
        self.ports: list[int] = []

    def __enter__(self) -> SlowWeb:
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_main, args=(self.hosts, self.latency, child), daemon=True)
        self.process.start()
        self.ports = parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join()

    def served(self) -> int:
        """Requests answered so far (pages and robots.txt) across every host."""
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.ports[0]}/__served") as reply:
            return int(reply.read())
