"""Crawls split by host over worker processes: same results, politeness kept, crashes contained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, LocalServer, reply, run_tracker
from tracker import db as dbmod
from tracker.crawl.fetcher import Request, Settings
from tracker.crawl.run import crawl
from tracker.crawl.workers import Job, run_in_workers, split_by_host

FAST = Settings(concurrency=8, per_host=2, delay=0, timeout=5, robots=False)


def _job(i: int, url: str) -> Job:
    return Job(request=Request(key=i, url=url), url=url, is_child=False, classify=False)


def test_split_by_host_keeps_each_host_whole_and_spreads_the_load() -> None:
    jobs = [_job(i, f"http://h{i % 5}.example/{i}") for i in range(100)]
    jobs += [_job(100 + i, f"http://big.example/{i}") for i in range(60)]
    shards = split_by_host(jobs, 3, lambda url: url.split("/")[2])
    hosts = [{job.url.split("/")[2] for job in shard} for shard in shards]
    assert sum(len(s) for s in shards) == 160
    assert all(not (a & b) for i, a in enumerate(hosts) for b in hosts[i + 1:])  # no host in two shards
    assert {"big.example"} in hosts  # the biggest host fills one shard, the others share the rest
    sizes = sorted(len(s) for s in shards)
    assert sizes == [40, 60, 60]
    for shard in shards:  # each shard keeps the interleaved order it was given
        ids = [job.id for job in shard]
        assert ids == sorted(ids)


def test_a_page_that_kills_its_worker_is_an_error_and_the_rest_are_read() -> None:
    servers = [LocalServer().start() for _ in range(2)]
    try:
        for srv in servers:
            srv.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
        jobs = [_job(i, servers[i % 2].url(f"/crash/{i}" if i == 7 else f"/p/{i}")) for i in range(30)]
        results: dict[int, object] = {}

        def collect(batch):  # type: ignore[no-untyped-def]
            for item_id, outcome in batch:
                assert item_id not in results  # each page is reported once
                results[item_id] = outcome

        run_in_workers(split_by_host(jobs, 2, lambda url: url.split("/")[2]), FAST, [], collect,
                       reader=__import__("tests.crawl.crashing_reader", fromlist=["x"]).read_or_die)
        assert sorted(results) == list(range(30))
        crashed = results[7]
        assert crashed.state == "error" and "crashed" in (crashed.error or "")  # type: ignore[attr-defined]
        assert all(o.state == "ok" and o.title == "A page" for i, o in results.items() if i != 7)  # type: ignore
    finally:
        for srv in servers:
            srv.stop()


def test_worker_crawl_stores_the_same_as_an_in_process_one(tmp_path: Path) -> None:
    servers = [LocalServer().start() for _ in range(3)]
    try:
        for n, srv in enumerate(servers):
            srv.routes["*"] = lambda req, n=n: reply(  # type: ignore[misc]
                200, f"<html><head><title>Host {n} {req.path}</title><meta name='description' "
                     f"content='about convolution'></head><body><p>卷积 pooling</p></body></html>")(req)
        lines = "".join(f"- [item {i}]({servers[i % 3].url(f'/a/{i}')})\n" for i in range(45))
        outline = tmp_path / "l.md"
        outline.write_text("## 卷积神经网络\n\n" + lines, encoding="utf-8")
        stored = []
        for workers in (0, 2):
            db = tmp_path / f"w{workers}.db"
            assert run_tracker("import", str(outline), env={"TRACKER_DB": str(db)}).returncode == 0
            database = dbmod.open_db(f"sqlite:///{db}")
            summary = crawl(database, FAST, workers=workers)
            with database.read() as conn:
                rows = conn.exec_driver_sql("SELECT i.url, f.state, f.title, f.meta FROM fetch f JOIN item i "
                                            "ON i.id = f.item_id ORDER BY i.url").fetchall()
            database.close()
            assert summary.checked == summary.ok == 45
            stored.append([(url, state, title, json.loads(meta)["description"]) for url, state, title, meta in rows])
        assert stored[0] == stored[1] and len(stored[0]) == 45
    finally:
        for srv in servers:
            srv.stop()


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def test_killing_a_worker_crawl_loses_nothing_stored_and_leaves_no_workers(server: LocalServer,
                                                                           tmp_path: Path) -> None:
    served = []

    def slow(req) -> None:  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        served.append(req.path)
        reply(200, "<title>t</title>")(req)

    server.routes["*"] = slow
    total = 150  # over the size at which the crawl starts worker processes
    path = tmp_path / "l.md"
    path.write_text("".join(f"- [p{i}]({server.url(f'/p{i}')})\n" for i in range(total)), encoding="utf-8")
    env = {"TRACKER_DB": str(tmp_path / "k.db"), "PYTHONPATH": str(ROOT)}
    assert run_tracker("import", str(path), env=env).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "crawl", "--json", "--delay", "0", "--per-host", "2"],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while len(served) < 20:
        time.sleep(0.02)
    workers = _children_of(proc.pid)
    assert workers  # a crawl this size runs in worker processes
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in workers):
        assert time.monotonic() < deadline, "workers outlived the killed crawl"
        time.sleep(0.05)
    listed = json.loads(run_tracker("list", "--json", env=env).stdout)
    fetched = [i for i in listed if i["fetch"]]
    assert 1 <= len(fetched) < total
    rest = json.loads(run_tracker("crawl", "--json", "--delay", "0", "--per-host", "4", env=env).stdout)
    assert rest["checked"] == total - len(fetched) and rest["ok"] == rest["checked"]


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_workers_fetch_without_importing_trio_or_click(server: LocalServer) -> None:
    """httpcore imports trio and httpx imports click when installed; a worker blocks both, a third of its start."""
    server.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
    results: dict[int, object] = {}

    def collect(batch):  # type: ignore[no-untyped-def]
        results.update(batch)

    run_in_workers([[_job(i, server.url(f"/p/{i}")) for i in range(3)]], FAST, [], collect,
                   reader=__import__("tests.crawl.module_reader", fromlist=["x"]).read_and_report_imports)
    assert {o.title for o in results.values()} == {"loaded: []"}  # type: ignore[attr-defined]


def test_the_next_request_goes_out_before_a_fetched_page_is_read(server: LocalServer) -> None:
    """Reading is CPU work that blocks the loop; the host's next request must not wait behind it."""
    import asyncio

    from tracker.crawl.reading import read_safely
    from tracker.crawl.workers import fetch_and_read

    arrived: dict[str, float] = {}
    page = reply(200, "<html><head><title>t</title></head><body>x</body></html>")

    def route(handler):  # type: ignore[no-untyped-def]
        arrived[handler.path] = time.monotonic()
        page(handler)

    server.routes["*"] = route
    read_until: dict[str, float] = {}

    def slow_reader(url, is_child, response, classify):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # stands for parsing a big page, holding the loop
        read_until[url.rsplit("/", 1)[1]] = time.monotonic()
        return read_safely(url, is_child, response, classify)

    jobs = [_job(i, server.url(f"/p/{i}")) for i in range(4)]
    one_at_a_time = Settings(concurrency=1, per_host=1, delay=0, robots=False)
    asyncio.run(fetch_and_read(jobs, one_at_a_time, lambda item_id, outcome: None, reader=slow_reader))
    for i in range(3):
        assert arrived[f"/p/{i + 1}"] < read_until[str(i)], i
