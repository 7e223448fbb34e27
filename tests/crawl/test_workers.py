"""Crawls split by host over worker processes: same results, politeness kept, crashes contained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, LocalServer, reply, run_tracker
from tracker.crawl.fetcher import Request, Settings
from tracker.crawl.run import crawl
from tracker.crawl.workers import Job, concurrency_shares, run_in_workers, split_by_host
from tracker.store import db as dbmod

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


def test_each_worker_gets_the_part_of_the_cap_its_hosts_can_use() -> None:
    assert concurrency_shares([4, 3, 3], 50, 5) == [20, 15, 15]  # equal thirds left 4 hosts 16 slots
    assert concurrency_shares([5, 5], 50, 5) == [25, 25]
    assert concurrency_shares([2, 1], 8, 5) == [5, 2]  # 15 wanted, 8 allowed: cut in proportion
    assert concurrency_shares([1, 1], 100, 1) == [1, 1]  # no more than the hosts can use
    assert concurrency_shares([9, 1], 3, 1) == [2, 1]  # at least one each
    for hosts in ([3, 7, 1], [10, 10], [1, 1, 1, 1]):
        for cap in (4, 10, 37):
            assert sum(concurrency_shares(hosts, cap, 3)) <= max(cap, len(hosts))


def test_a_worker_sends_the_pages_it_has_read_together() -> None:
    """Outcomes go out in one message per OUTBOX_WINDOW, and every one of them goes out; a worker
    that announces pages sends what it has read before saying which page it reads next."""
    import asyncio

    from tracker.crawl import workers
    from tracker.crawl.reading import failed

    class Pipe:
        def __init__(self) -> None:
            self.sent: list[tuple[object, float]] = []

        def send(self, message: object) -> None:
            self.sent.append((message, time.monotonic()))

    async def produce(outbox: workers._Outbox, announce: bool, conn: Pipe, put: list[int] | None = None) -> None:
        for i in range(6):
            if announce:
                outbox.flush()
                conn.send(("reading", i))
            outbox.put(i, failed(f"http://x/{i}", "test"))
            if put is not None:
                put.append(i)
            await asyncio.sleep(0.004 if i != 2 else workers.OUTBOX_WINDOW * 2)
        outbox.flush()

    quiet = Pipe()
    asyncio.run(produce(workers._Outbox(quiet), False, quiet))
    batches = [message for message, _at in quiet.sent]
    assert [[item_id for item_id, _o in batch] for _done, batch in batches] == [[0, 1, 2], [3, 4, 5]]

    class Gone(Pipe):  # the crawl's process was killed
        def send(self, message: object) -> None:
            raise BrokenPipeError("the other end is closed")

    put: list[int] = []
    with pytest.raises(BrokenPipeError):  # in the worker's task, which ends the worker, not in a timer
        asyncio.run(produce(workers._Outbox(Gone()), False, Gone(), put))
    assert put == [0, 1, 2]  # the first page after the failed send raised it

    announcing = Pipe()
    asyncio.run(produce(workers._Outbox(announcing), True, announcing))
    flat = [(m[0], m[1]) if m[0] == "reading" else (m[0], [i for i, _o in m[1]]) for m, _at in announcing.sent]
    assert flat == [("reading", 0), ("done", [0]), ("reading", 1), ("done", [1]), ("reading", 2), ("done", [2]),
                    ("reading", 3), ("done", [3]), ("reading", 4), ("done", [4]), ("reading", 5), ("done", [5])]


_PRELOAD = """
import sys
sys.path.insert(0, {root!r})
from tracker.crawl.workers import Workers
with Workers(int(sys.argv[1]), method=sys.argv[2]) as pool:
    print(int("httpx" in sys.modules), int("httpcore" in sys.modules), pool.count)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_forked_workers_get_the_fetching_code_from_the_crawls_process(tmp_path: Path) -> None:
    """Loaded once before forking, not by each worker beside the crawl's own start-up; a spawned
    worker loads its own, and the crawl's process loads nothing it does not need."""
    script = tmp_path / "preload.py"
    script.write_text(_PRELOAD.format(root=str(ROOT)), encoding="utf-8")

    def loaded(count: int, method: str) -> list[str]:
        done = subprocess.run([sys.executable, str(script), str(count), method], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.split()

    assert loaded(2, "fork") == ["1", "1", "2"]
    assert loaded(2, "spawn") == ["0", "0", "2"]
    assert loaded(0, "fork") == ["0", "0", "0"]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_page_that_kills_its_worker_is_an_error_and_the_rest_are_read(method: str) -> None:
    servers = [LocalServer().start() for _ in range(2)]
    try:
        for srv in servers:
            srv.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
        # Two pages that crash the reader, on the same host and so in the same worker's share.
        jobs = [_job(i, servers[i % 2].url(f"/crash/{i}" if i in (7, 13) else f"/p/{i}")) for i in range(30)]
        results: dict[int, object] = {}

        def collect(batch):  # type: ignore[no-untyped-def]
            for item_id, outcome in batch:
                assert item_id not in results  # each page is reported once
                results[item_id] = outcome

        run_in_workers(split_by_host(jobs, 2, lambda url: url.split("/")[2]), FAST, [], collect,
                       reader=__import__("tests.crawl.crashing_reader", fromlist=["x"]).read_or_die, method=method)
        assert sorted(results) == list(range(30))
        for crashed in (results[7], results[13]):
            assert crashed.state == "error" and "crashed" in (crashed.error or "")  # type: ignore[attr-defined]
        assert all(o.state == "ok" and o.title == "A page"  # type: ignore[attr-defined]
                   for i, o in results.items() if i not in (7, 13))
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
    # One request at a time: what is left after the kill would take a worker that went on 13 s.
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "crawl", "--json", "--delay", "0", "--per-host", "1"],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while len(served) < 20:
        time.sleep(0.02)
    workers = _children_of(proc.pid)
    assert workers  # a crawl this size runs in worker processes
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5  # a worker notices with its next page
    while any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in workers):
        assert time.monotonic() < deadline, "workers outlived the killed crawl"
        time.sleep(0.05)
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read().decode()  # the workers left quietly
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


def test_spawned_workers_fetch_without_importing_trio_or_click(server: LocalServer) -> None:
    """httpcore imports trio and httpx imports click when installed; a worker blocks both, a third of its start."""
    server.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
    results: dict[int, object] = {}

    def collect(batch):  # type: ignore[no-untyped-def]
        results.update(batch)

    run_in_workers([[_job(i, server.url(f"/p/{i}")) for i in range(3)]], FAST, [], collect,
                   reader=__import__("tests.crawl.module_reader", fromlist=["x"]).read_and_report_imports,
                   method="spawn")
    assert {o.title for o in results.values()} == {"loaded: []"}  # type: ignore[attr-defined]


_MAIN_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
# No __name__ guard, and a side effect at the top, as in a console script or a quick script.
with open({marker!r}, "a") as f:
    f.write("ran\\n")
import tracker.cli
from tracker.crawl.fetcher import Request, Settings
from tracker.crawl.workers import Job, run_in_workers

results = {{}}
jobs = [Job(request=Request(key=i, url=sys.argv[1] + str(i)), url=sys.argv[1] + str(i), is_child=False,
            classify=False) for i in range(3)]
run_in_workers([jobs], Settings(concurrency=2, per_host=2, delay=0, robots=False), [],
               lambda batch: results.update(batch), method=sys.argv[2])
print(sorted(o.state for o in results.values()))
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_do_not_run_the_main_script_again(server: LocalServer, tmp_path: Path, method: str) -> None:
    """A spawned process re-runs the parent's main script unless told not to; a worker has no use for it."""
    server.routes["*"] = reply(200, "<html><head><title>t</title></head><body>x</body></html>")
    marker = tmp_path / "ran.txt"
    script = tmp_path / "crawl_script.py"
    script.write_text(_MAIN_SCRIPT.format(root=str(ROOT), marker=str(marker)), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), server.url("/p/"), method], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['ok', 'ok', 'ok']"
    assert marker.read_text() == "ran\n"  # by the script itself, and by no worker


_PREPARED = """
import asyncio, json, sys
sys.path.insert(0, {root!r})
from tracker.crawl.fetcher import Request, Settings
from tracker.crawl.workers import OPTIONAL_IMPORTS_UNUSED, Job, fetch_and_read, prepare_fetching, prepare_reading
from tracker.topics import TopicDef

prepare_fetching()
prepare_reading([TopicDef(slug="cnn", title="卷积神经网络", parent=None, group=0, position=0,
                          aliases=("convolution",))])
before = set(sys.modules)
blocked = [name for name in OPTIONAL_IMPORTS_UNUSED if name in sys.modules and sys.modules[name] is None]
url = sys.argv[1]
jobs = [Job(request=Request(key=1, url=url), url=url, is_child=False, classify=True)]
states = []
asyncio.run(fetch_and_read(jobs, Settings(concurrency=1, per_host=1, delay=0), lambda i, o: states.append(o.state)))
print(json.dumps({{"states": states, "new": sorted(set(sys.modules) - before), "blocked": blocked}}))
"""


def test_a_prepared_process_fetches_and_reads_without_importing_more(server: LocalServer, tmp_path: Path) -> None:
    """Workers load all they use up front (`prepare_fetching` before the first request, `prepare_reading`
    while it is in flight): what the first page needs must already be loaded,
    and the imports it blocked while loading must work again afterwards in the crawl's process."""
    server.routes["/robots.txt"] = reply(200, "User-agent: *\nDisallow: /private\n", {"Content-Type": "text/plain"})
    server.routes["*"] = reply(200, "<html lang='zh'><head><title>卷积网络</title><meta name='description' "
                                    "content='convolution'></head><body><p>卷积 text</p></body></html>",
                               {"Content-Type": "text/html; charset=utf-8"})
    script = tmp_path / "prepared.py"
    script.write_text(_PREPARED.format(root=str(ROOT)), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), server.url("/page")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report == {"states": ["ok"], "new": [], "blocked": []}


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_workers_are_forked_only_while_no_other_thread_runs() -> None:
    code = ("import threading\n"
            "from tracker.crawl.workers import start_method\n"
            "print(start_method())\n"
            "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
            "print(start_method())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.split() == ["fork", "spawn"], done.stderr


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


def test_reading_is_prepared_while_the_first_requests_are_out_and_always_before_a_page_is_read(
        server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from tracker.crawl import workers
    from tracker.crawl.reading import read_safely
    from tracker.crawl.workers import fetch_and_read

    events: list[str] = []

    def slow(req) -> None:  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        events.append("answered")
        reply(200, "<html><head><title>t</title></head><body>x</body></html>")(req)

    def reader(url, is_child, response, classify):  # type: ignore[no-untyped-def]
        events.append("read")
        return read_safely(url, is_child, response, classify)

    server.routes["*"] = slow
    settings = Settings(concurrency=2, per_host=2, delay=0, robots=False)

    def crawl_two() -> list[str]:
        events.clear()
        asyncio.run(fetch_and_read([_job(i, server.url(f"/p/{i}")) for i in range(2)], settings,
                                   lambda item_id, outcome: None, reader=reader, warm=lambda: events.append("warm")))
        return list(events)

    assert crawl_two()[0] == "warm"  # while the server was still taking its time
    monkeypatch.setattr(workers, "WARM_AFTER", 30.0)  # answers come long before the planned moment
    order = crawl_two()
    assert order.count("warm") == 1 and order.index("warm") < order.index("read")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_started_ahead_and_left_without_a_share_exit_cleanly(server: LocalServer, method: str) -> None:
    from tracker.crawl.workers import Workers

    server.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
    results: dict[int, object] = {}
    with Workers(3, method=method) as workers:
        assert workers.count == 3
        processes = [process for process, _conn in workers.idle]
        workers.run([[_job(i, server.url(f"/p/{i}")) for i in range(4)]], FAST, [], lambda b: results.update(b))
    assert sorted(results) == [0, 1, 2, 3] and {o.title for o in results.values()} == {"A page"}  # type: ignore
    assert [p.exitcode for p in processes] == [0, 0, 0]  # the one that crawled, and the two told to go


def test_a_crawl_whose_estimate_overshoots_runs_in_process_and_leaves_no_workers(tmp_path: Path) -> None:
    """arXiv links count in the first estimate (workers start) but are not crawled: ten pages remain."""
    server = LocalServer().start()
    try:
        server.routes["*"] = reply(200, "<html><head><title>A page</title></head><body>text</body></html>")
        lines = "".join(f"- [paper {i}](https://arxiv.org/abs/2401.{i:05d})\n" for i in range(150))
        lines += "".join(f"- [page {i}]({server.url(f'/p/{i}')})\n" for i in range(10))
        outline = tmp_path / "l.md"
        outline.write_text("## 卷积神经网络\n\n" + lines, encoding="utf-8")
        db = tmp_path / "e.db"
        assert run_tracker("import", str(outline), env={"TRACKER_DB": str(db)}).returncode == 0
        database = dbmod.open_db(f"sqlite:///{db}")
        before = set(_children_of(os.getpid()))  # multiprocessing's resource tracker may live on
        try:
            summary = crawl(database, FAST)
        finally:
            database.close()
        assert (summary.checked, summary.ok, summary.skipped) == (10, 10, 150)
        assert set(_children_of(os.getpid())) <= before
    finally:
        server.stop()
