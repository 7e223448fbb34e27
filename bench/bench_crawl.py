"""Crawling 1,000 links over 10 slow local hosts, against the network bound and against LinkChecker.

Run: python bench/bench_crawl.py [--links 1000] [--runs 3] [--skip-linkchecker] [--memory 10000] [--parts]
Each host answers after 100 ms with a ~100 KB article page. Targets, with
`--per-host 5 --delay 0 --concurrency 50`: `crawl()` takes at most 1.25 x the network bound
(links x latency / 50), extraction and storage included; a 10,000-link `tracker crawl` takes at most
1.15 x its bound and peaks under 100 MB; at least 5 x LinkChecker 10.6's throughput on the same links
at the same concurrency.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crawl_server import SlowWeb  # noqa: E402

HOSTS, LATENCY, PER_HOST, CONCURRENCY = 10, 0.1, 5, 50
TOPICS = ("卷积神经网络", "生成对抗网络", "强化学习", "图神经网络", "元学习")
FLAGS = ["--per-host", str(PER_HOST), "--delay", "0", "--concurrency", str(CONCURRENCY)]


def links(ports: list[int], n: int) -> list[str]:
    """n article URLs spread evenly over the hosts."""
    return [f"http://127.0.0.1:{ports[i % len(ports)]}/article/details/{i}" for i in range(n)]


def env_for(db: Path) -> dict[str, str]:
    return {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1"}


def build(db: Path, urls: list[str]) -> None:
    """An outline of the links under a few topic headings, imported by the real command."""
    outline = db.with_suffix(".md")
    per = len(urls) // len(TOPICS) + 1
    lines = []
    for t, topic in enumerate(TOPICS):
        lines.append(f"## {topic}\n")
        lines += [f"- [文章 {i}]({url})" for i, url in enumerate(urls[t * per:(t + 1) * per], t * per)]
        lines.append("")
    outline.write_text("\n".join(lines), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "tracker", "import", str(outline)], env=env_for(db), check=True,
                   capture_output=True)


def memory_kib(pid: int) -> tuple[int, int]:
    """Resident (RSS) and proportional (PSS) memory of a process, in KiB (0, 0 once it has gone).

    Only that process's own summary is read: scanning every process on each sample took CPU from the
    crawl being measured."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:] if ":" in line)
    return int(fields.get("Rss", "0 kB").split()[0]), int(fields.get("Pss", "0 kB").split()[0])


def whole_command(db: Path) -> tuple[float, int, int, str]:
    """Wall time and peak memory (KiB; RSS and PSS) of `tracker crawl --json`."""
    import threading

    errors = db.with_suffix(".err")
    peak = [0, 0]
    start = time.perf_counter()
    with errors.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tracker", "crawl", *FLAGS, "--json"], env=env_for(db),
                                stdout=subprocess.PIPE, stderr=err)

        def sample() -> None:
            while proc.returncode is None and not done.is_set():
                rss, pss = memory_kib(proc.pid)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
                time.sleep(0.1)

        done = threading.Event()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        out = proc.stdout.read()
        done.set()
        # wait4 rather than wait: it also returns the largest single process's peak, which sampling can miss.
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.join()
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"crawl failed: {errors.read_text()[-500:]}")
    return wall, max(peak[0], usage.ru_maxrss), max(peak[1], usage.ru_maxrss), out.decode().strip()


def in_process(db: Path, part: str = "all") -> tuple[float, float]:
    """Wall and CPU time of `crawl()` alone, in a fresh process that has loaded what `tracker crawl` loads
    first (the command line, the database); whatever crawl() imports or starts is part of its time."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--time-crawl", str(db), "--part", part],
                         env=env_for(db), check=True, capture_output=True, text=True).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


# What `--parts` leaves out of a crawl, step by step, to show where its time goes.
PARTS = {"fetch": "fetching only (no reading, no database)",
         "read": "fetching and reading (nothing stored)",
         "store": "fetching, reading and storing, without keeping page text",
         "all": "everything: fetching, reading, storing, page text kept (and indexed for search)"}


def time_crawl(db: Path, part: str = "all") -> None:
    """The child of `in_process`: print crawl()'s wall and CPU time, with `part` of its work done (see PARTS)."""
    import asyncio

    import tracker.cli  # noqa: F401  (what `tracker crawl` has loaded before the crawl starts)
    from tracker import config
    from tracker.crawl import run
    from tracker.crawl.fetcher import fetch_all, host_key
    from tracker.crawl.settings import Settings
    from tracker.store import db as dbmod

    database = dbmod.open_db(f"sqlite:///{db}")
    settings = Settings.given(concurrency=CONCURRENCY, per_host=PER_HOST, delay=0.0)
    if part in ("read", "store"):
        run.keep_text = lambda *args: False
    if part == "read":
        def count_only(ledger: run._Ledger) -> None:
            ledger.summary.ok += sum(outcome.state == "ok" for _item, outcome in ledger.held)
            ledger.held.clear()

        run._Ledger.flush = count_only  # type: ignore[assignment,method-assign]
    with database.read() as conn:
        items, _ = run.due_items(conn, dbmod.utcnow(), False)
    requests = run.interleave(list(run.requests_for(items, config.endpoints(), False)), lambda r: host_key(r.url))

    async def fetch_only() -> int:
        return sum([1 async for response in fetch_all(requests, settings) if response.state == "ok"])

    start, cpu = time.perf_counter(), time.process_time()
    ok = asyncio.run(fetch_only()) if part == "fetch" else run.crawl(database, settings).ok
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    database.close()
    assert ok == len(items), (ok, len(items))
    print(f"{wall:.4f} {cpu:.4f}")


def machine_speed() -> float:
    """Milliseconds to read one benchmark page (best of 5 x 40), to tell a slow moment of a shared VM from a
    slow crawler: a shared virtual machine's CPU speed can swing by a third or more from one minute to the next."""
    from bench.crawl_server import article
    from tracker.crawl.sites import Page
    from tracker.crawl.sites.generic import extract

    head, tail = article()
    page = Page(url="http://127.0.0.1/a", final_url="http://127.0.0.1/a", status=200, headers={},
                body=head + b"Article /a" + tail, charset="utf-8")
    extract(page)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(40):
            extract(page)
        best = min(best, (time.perf_counter() - start) / 40)
    return best * 1000


def linkchecker(urls: list[str], tmp: Path, tuned: bool) -> float:
    """LinkChecker checking the same URLs with 50 threads; tuned lifts its 10 requests/s per host default."""
    config = tmp / "linkcheckerrc"
    config.write_text("[checking]\nmaxrequestspersecond=1000\n" if tuned else "[checking]\n", encoding="utf-8")
    exe = shutil.which("linkchecker") or sys.exit("linkchecker not installed: pip install -e '.[bench]'")
    start = time.perf_counter()
    subprocess.run([exe, "-f", str(config), "--stdin", "-r", "0", "-t", str(CONCURRENCY), "-o", "none",
                    "--no-status", "--check-extern"], input="\n".join(urls).encode(), env=env_for(tmp / "x.db"),
                   capture_output=True)
    return time.perf_counter() - start


def parts(n: int, runs: int) -> None:
    """Each of PARTS on the same links, in fresh processes, the parts taking turns run after run."""
    bound = n * LATENCY / (PER_HOST * HOSTS)
    times: dict[str, list[tuple[float, float]]] = {part: [] for part in PARTS}
    with SlowWeb(HOSTS, LATENCY) as web, tempfile.TemporaryDirectory() as tmp_name:
        template = Path(tmp_name) / "template.db"
        build(template, links(web.ports, n))
        print(f"{n} links, network bound {bound:.2f} s; reading one page takes {machine_speed():.2f} ms now")
        for run in range(runs):
            for part in PARTS:
                db = Path(tmp_name) / f"{part}{run}.db"
                shutil.copy(template, db)
                times[part].append(in_process(db, part))
    for part, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(f"{PARTS[part]}: median {wall:.2f} s = {wall / bound:.2f} x bound, CPU {cpu:.2f} s "
              f"({cpu / n * 1000:.2f} ms a page)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-linkchecker", action="store_true")
    parser.add_argument("--memory", type=int, default=0, help="also crawl this many links for peak memory")
    parser.add_argument("--parts", action="store_true", help="time the crawl's steps apart, instead of the rest")
    parser.add_argument("--time-crawl", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--part", default="all", choices=list(PARTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_crawl:
        time_crawl(args.time_crawl, args.part)
        return
    if args.parts:
        parts(args.links, args.runs)
        return
    bound = args.links * LATENCY / (PER_HOST * HOSTS)
    with SlowWeb(HOSTS, LATENCY) as web, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        urls = links(web.ports, args.links)
        template = tmp / "template.db"
        build(template, urls)
        print(f"{args.links} links over {HOSTS} hosts, {LATENCY * 1000:.0f} ms each, "
              f"network bound {bound:.2f} s; reading one page takes {machine_speed():.2f} ms on this machine now")

        walls, rss, pss = [], [], []
        for run in range(args.runs):
            db = tmp / f"run{run}.db"
            shutil.copy(template, db)
            before = web.served()
            wall, peak_rss, peak_pss, out = whole_command(db)
            assert web.served() - before == args.links + HOSTS, "every page and robots.txt once"
            walls.append(wall)
            rss.append(peak_rss)
            pss.append(peak_pss)
        print(f"tracker crawl, whole process: {', '.join(f'{w:.2f}' for w in walls)} s; median "
              f"{statistics.median(walls):.2f} s = {statistics.median(walls) / bound:.2f} x bound; "
              f"peak memory: PSS {max(pss) / 1024:.0f} MB, RSS {max(rss) / 1024:.0f} MB; {out}")
        inner = []
        for run in range(args.runs):
            db = tmp / f"inner{run}.db"
            shutil.copy(template, db)
            inner.append(in_process(db)[0])
        print(f"crawl() alone, each in a fresh process: {', '.join(f'{w:.2f}' for w in inner)} s; median "
              f"{statistics.median(inner):.2f} s = {statistics.median(inner) / bound:.2f} x bound")

        if not args.skip_linkchecker:
            for tuned in (False, True):
                before = web.served()
                lc = linkchecker(urls, tmp, tuned)
                served = web.served() - before
                label = "maxrequestspersecond=1000" if tuned else "default settings"
                print(f"LinkChecker 10.6, 50 threads, {label}: {lc:.2f} s for {served} requests; "
                      f"tracker's throughput {lc / statistics.median(walls):.1f} x (whole process)")

    if args.memory:
        with SlowWeb(HOSTS, LATENCY) as web, tempfile.TemporaryDirectory() as tmp_name:
            db = Path(tmp_name) / "memory.db"
            build(db, links(web.ports, args.memory))
            wall, peak_rss, peak_pss, out = whole_command(db)
            print(f"{args.memory} links: {wall:.1f} s (bound {args.memory * LATENCY / (PER_HOST * HOSTS):.1f} s), "
                  f"peak memory: PSS {peak_pss / 1024:.0f} MB, RSS {peak_rss / 1024:.0f} MB; "
                  f"{out}")


if __name__ == "__main__":
    main()
