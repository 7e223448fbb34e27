"""`tracker serve` under load: five kinds of page, 10 concurrent loopback clients, 30 seconds.

Run: PYTHONPATH=. python bench/bench_web.py [DATABASE] [--clients N] [--seconds S]
The database is made by bench/web_db.py when it does not exist (default bench/out/web.db).
Target (issue 19): the outline of one topic, an item, an inbox page of 50, the busiest week and a
search each at most 150 ms at the 95th percentile, no errors, and the server under 300 MB.

Each client keeps one HTTP/1.1 connection and asks for the next page as soon as the last one has
arrived, going round the five kinds; the server's resident memory is read every half second, and its
CPU time per page and the machine's load average are printed beside the latencies (the machine is shared).
Before the clock starts, each kind is asked for once (the first inbox page ranks the inbox).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.web_db import ITEMS, build, busy_week, vocabulary  # noqa: E402

KINDS = ("topic", "item", "inbox", "week", "search")
TARGET_MS, TARGET_MB = 150, 300


def paths(db: Path, rng: random.Random) -> dict[str, list[str]]:
    """A few hundred addresses of each kind, picked at random from the database."""
    with sqlite3.connect(db) as conn:
        slugs = [row[0] for row in conn.execute("SELECT slug FROM topic")]
        inbox = conn.execute("SELECT count(*) FROM item WHERE status = 'inbox'").fetchone()[0]
    label = busy_week(datetime.now(UTC))[1]
    # Searches for one or two words, drawn as often as titles use them: mostly different each time.
    words, weights = vocabulary(random.Random(5))
    queries = [" ".join(rng.choices(words, weights, k=rng.choice((1, 1, 2)))) for _ in range(500)]
    return {
        "topic": [f"/topic/{rng.choice(slugs)}" for _ in range(500)],
        "item": [f"/item/{rng.randrange(1, ITEMS + 1)}" for _ in range(500)],
        "inbox": [f"/inbox?page={rng.randrange(1, inbox // 50 + 1)}" for _ in range(500)],
        "week": [f"/week?week={label}"],
        "search": [f"/search?q={quote(query)}" for query in queries],
    }


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    """One GET on a kept-alive connection; returns the status."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status


async def client(url: str, addresses: dict[str, list[str]], until: float, first: int, seed: int,
                 samples: dict[str, list[float]], errors: list[str]) -> None:
    """Ask for page after page, going round the kinds, until the clock runs out."""
    rng = random.Random(seed)
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    turn = first
    while time.perf_counter() < until:
        kind = KINDS[turn % len(KINDS)]
        turn += 1
        path = rng.choice(addresses[kind])
        start = time.perf_counter()
        try:
            status = await get(reader, writer, parts.netloc, path)
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
            errors.append(f"{path}: {exc!r}")
            writer.close()
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            continue
        samples[kind].append(time.perf_counter() - start)
        if status != 200:
            errors.append(f"{path}: {status}")
    writer.close()


async def watch_memory(pid: int, until: float, peaks: list[int]) -> None:
    """The server's resident memory (kB), read every half second."""
    while time.perf_counter() < until:
        with open(f"/proc/{pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        peaks.append(rss)
        await asyncio.sleep(0.5)


async def load(url: str, pid: int, addresses: dict[str, list[str]], clients: int,
               seconds: float) -> tuple[dict[str, list[float]], list[str], list[int]]:
    """Run the clients and the memory watch together."""
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: list[str] = []
    peaks: list[int] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(watch_memory(pid, until, peaks),
                         *(client(url, addresses, until, n, n, samples, errors) for n in range(clients)))
    return samples, errors, peaks


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) process `pid` has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def start_server(db: Path) -> tuple[subprocess.Popen[str], str]:
    """`tracker serve --port 0` on `db`; returns the process and its address."""
    env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def warm(url: str, addresses: dict[str, list[str]]) -> dict[str, float]:
    """Ask for each kind once, before the clock starts; returns how long each took."""
    import httpx

    took = {}
    with httpx.Client(base_url=url, timeout=600) as session:
        for kind in KINDS:
            start = time.perf_counter()
            answer = session.get(addresses[kind][0])
            took[kind] = time.perf_counter() - start
            answer.raise_for_status()
    return took


def main() -> None:
    """Build or reuse the database, start the server, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", default=str(ROOT / "bench" / "out" / "web.db"))
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    db = Path(args.database)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {db} ...", flush=True)
        build(db)
    addresses = paths(db, random.Random(7))
    process, url = start_server(db)
    try:
        first = warm(url, addresses)
        print("first request of each kind: " + ", ".join(f"{k} {v:.2f} s" for k, v in first.items()))
        # The machine is shared: its load and the server's CPU per page say how far the latencies are its own.
        before, load_before = cpu_seconds(process.pid), os.getloadavg()[0]
        samples, errors, peaks = asyncio.run(load(url, process.pid, addresses, args.clients, args.seconds))
        used, load_after = cpu_seconds(process.pid) - before, os.getloadavg()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)
    total = sum(len(v) for v in samples.values())
    print(f"{args.clients} clients, {args.seconds:.0f} s: {total} pages ({total / args.seconds:.0f}/s), "
          f"{len(errors)} errors; server memory at most {max(peaks) / 1024:.0f} MB (target {TARGET_MB})")
    print(f"server CPU {used * 1000 / max(total, 1):.1f} ms a page ({used / args.seconds:.0%} of a core); "
          f"load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores")
    print(f"{'page':8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind in KINDS:
        values = samples[kind]
        p95 = percentile(values, 0.95) * 1000
        print(f"{kind:8} {len(values):6} {percentile(values, 0.5) * 1000:8.1f} {p95:8.1f} "
              f"{max(values, default=0) * 1000:8.1f}  {'ok' if p95 <= TARGET_MS else 'over'}")
    for error in errors[:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
