"""Fetching and reading pages, in this process or split by host over worker processes.

A 100 KB page costs about 1.3 ms of CPU to fetch (httpx) and 1.5 ms to read (lxml and the
extractor); in one process the two queue for the interpreter lock, and a large crawl becomes
CPU-bound long before the network is. So a large crawl is split by host over worker processes,
each fetching and reading its own hosts (a host belongs to one worker, so its politeness limits
hold), and each sends back only what the database records, never page bodies. The crawl's own
process stores results as they come.

A page that crashes the reader (lxml is C code) takes down its worker, not the crawl: a fresh
worker carries on with what the dead one still owed, saying which page it is reading before it
reads it, so when the page crashes it again it is recorded as an error and the rest are read.

How workers start. On Linux, from a process with no other threads, they are forked, which takes a
millisecond instead of the 0.1-0.2 s a fresh interpreter takes to start; the crawl's process loads
httpx first (0.1 s), once, and every worker has it from the start. Elsewhere, or when threads run
(a fork copies a lock another thread may hold), they are spawned, before the crawl's process reads
what is due, and load httpx meanwhile. Either way a worker loads what reading needs (lxml, the
extractors, the topic classifier) while its first requests are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tracker.crawl.fetcher import Request, Response, Settings, host_key
from tracker.crawl.reading import Outcome, failed, read_safely, start_reader

# Below this many due pages a worker's start-up (loading httpx and lxml, 0.1-0.3 s) is not worth it.
WORKER_THRESHOLD = 100
MAX_WORKERS = 4
# A shard whose worker keeps dying is given up after this many fresh starts (the first finds the
# page that crashed it, each later one another such page).
MAX_RESTARTS = 4
BATCH_WINDOW = 0.05  # seconds
# A worker sends the pages it has read at most this long after the first of them (see _Outbox):
# well inside BATCH_WINDOW, so the crawl's process still stores them in the batch they arrive in.
OUTBOX_WINDOW = 0.02  # seconds
# Seconds into a worker's run at which it loads the reader (see fetch_and_read): by then its first
# requests are out (about 15 ms for five hosts' robots.txt on this project's 2-core VM), and a
# round trip to a real site takes longer than that. Loading earlier held those requests back.
WARM_AFTER = 0.03
# Modules httpx and httpcore import only if they are installed, and a crawl never needs: httpcore
# imports trio to choose its locks; httpx imports click, pygments and rich for its own command line.
OPTIONAL_IMPORTS_UNUSED = ("trio", "click", "pygments")
# Modules otherwise first imported while the first request is in flight: IDNA host names (httpx),
# the robots.txt parser. (anyio's event-loop backend is not among them: the crawler's connections do
# not use it, see `pools._Connections`; it loads only if a request fails part-way through.)
FIRST_REQUEST_IMPORTS = ("encodings.idna", "urllib.robotparser")


@dataclass(frozen=True)
class Job:
    """One page to fetch and read: the request, and what reading it needs to know of its item."""

    request: Request
    url: str  # the item's URL (the request may go to an API instead)
    is_child: bool
    classify: bool

    @property
    def id(self) -> int:
        """The item's id."""
        return self.request.key


Emit = Callable[[int, Outcome], None]
Reader = Callable[[str, bool, Response, bool], Outcome]


async def fetch_and_read(jobs: Sequence[Job], settings: Settings, emit: Emit,
                         reading: Callable[[int], None] | None = None, reader: Reader = read_safely,
                         warm: Callable[[], None] | None = None) -> None:
    """Fetch every job's page and hand each read outcome to `emit` as it completes.

    `reading(id)` is told before each page is read; `reader` reads it (a test puts a crashing one here).
    `warm()` prepares reading: it runs while the first requests are in flight, or at the latest
    before the first page is read.
    """
    from tracker.crawl.fetcher import fetch_all

    by_id = {job.id: job for job in jobs}
    pending_warm = [warm] if warm is not None else []

    def warm_once() -> None:
        while pending_warm:
            pending_warm.pop()()

    if pending_warm:
        # Loading the reader (lxml, the site extractors, the classifier: 30-50 ms) blocks the loop.
        # Once the first requests (robots.txt) are out the loop has nothing to do until their
        # answers come, so loading then takes it off the crawl's start. (A thread would load in
        # that idle time too, but it holds the interpreter lock while the requests are being made.)
        asyncio.get_running_loop().call_later(WARM_AFTER, warm_once)
    # aclosing: on cancellation the fetcher's tasks and connections are closed at once, not at loop shutdown.
    async with contextlib.aclosing(fetch_all((job.request for job in jobs), settings)) as responses:
        async for response in responses:
            # One turn of the loop before reading: the request waiting for the slot this response
            # freed goes out now (with a kept-alive connection and no delay to wait, httpcore writes
            # it within that turn), instead of after every page of the same burst has been read.
            # tests/crawl/test_workers.py checks the order.
            await asyncio.sleep(0)
            warm_once()
            job = by_id[response.key]
            if reading is not None:
                reading(job.id)
            emit(job.id, reader(job.url, job.is_child, response, job.classify))


def worker_count(due: int, hosts: int, concurrency: int) -> int:
    """Worker processes for a crawl: none when it is small or on one core; never more than hosts or slots."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if due < WORKER_THRESHOLD or cores < 2:
        return 0
    return max(0, min(cores, MAX_WORKERS, hosts, concurrency))


def split_by_host(jobs: Sequence[Job], shards: int, host_of: Callable[[str], str]) -> list[list[Job]]:
    """Jobs in `shards` groups, each host wholly in one, the busiest hosts spread first; order kept."""
    hosts = [host_of(job.request.url) for job in jobs]
    counts: dict[str, int] = {}
    for host in hosts:
        counts[host] = counts.get(host, 0) + 1
    load = [0] * shards
    shard_of: dict[str, int] = {}
    for host, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        target = load.index(min(load))
        shard_of[host] = target
        load[target] += count
    groups: list[list[Job]] = [[] for _ in range(shards)]
    for job, host in zip(jobs, hosts, strict=True):
        groups[shard_of[host]].append(job)
    return [g for g in groups if g]


@contextlib.contextmanager
def _unused_imports_blocked() -> Iterator[None]:
    """While inside, importing an OPTIONAL_IMPORTS_UNUSED module fails at once, as httpx and httpcore expect
    of a missing one; they were a third of a worker's start (0.15-0.4 s) and 12-15 MB of its memory."""
    added = [name for name in OPTIONAL_IMPORTS_UNUSED if name not in sys.modules]
    for name in added:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in added:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def prepare_fetching() -> None:
    """Load what fetching uses: the crawl's process before it forks workers, a spawned worker first thing."""
    import importlib

    with _unused_imports_blocked():
        import httpcore  # noqa: F401
        import httpx  # noqa: F401

        import tracker.crawl.netstream
        import tracker.crawl.pools  # noqa: F401
        for name in FIRST_REQUEST_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)


def prepare_reading(topic_defs: Sequence[Any]) -> None:
    """Load what reading uses, and build the classifier (a worker does it while its first requests are out)."""
    from tracker.crawl.sites import html, site_for

    site_for("")  # imports every site extractor
    html.prepare()
    start_reader(topic_defs)


class _Outbox:
    """Read pages on their way to the crawl's process, sent together once OUTBOX_WINDOW has passed.

    One message per page cost a worker a pickler and a write (8 % of a worker's CPU in the crawl
    benchmark) and the crawl's process a wake-up each. A worker that dies loses what its outbox
    held; the crawl's process hands those pages to the fresh worker like any other it was owed.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.held: list[tuple[int, Outcome]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.broken: OSError | None = None

    def put(self, item_id: int, outcome: Outcome) -> None:
        """Hold one page's outcome; the first one held starts the clock (call from the running loop).

        Raises the error a timed send met: the crawl's process is gone, and so the worker must go.
        """
        if self.broken is not None:
            raise self.broken
        self.held.append((item_id, outcome))
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(OUTBOX_WINDOW, self._timed_flush)

    def _timed_flush(self) -> None:
        # An error raised in a timer would only be logged by the event loop, and the worker would
        # crawl on for nobody; it is kept for `put` to raise in the worker's own task.
        self.timer = None
        try:
            self.flush()
        except OSError as exc:
            self.broken = exc

    def flush(self) -> None:
        """Send everything held now."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.held:
            held, self.held = self.held, []
            self.conn.send(("done", held))


def _worker(conn: Any, reader: Reader, inherited: Sequence[Any] = ()) -> None:
    """A worker process: load the fetching code, wait for its share of the crawl, fetch and read it.

    `inherited` are the crawl's ends of the pipes, which a forked worker holds too and closes.
    The share comes as (jobs, settings, topic_defs, announce), or None when there is nothing to do.
    It sends ("done", [(id, outcome), ...]) for the pages it has read (see _Outbox), and before
    reading one, if `announce`, ("reading", id).
    """
    import signal

    # Ctrl-C reaches the whole process group; the crawl's own process decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other_end in inherited:  # see Workers._start
        other_end.close()
    try:
        # A spawned worker loads it while the crawl's process works out what is due; a forked one
        # has it already (see Workers), and this returns at once.
        prepare_fetching()
        task = conn.recv()
        if task is None:
            return
        jobs, settings, topic_defs, announce = task
        outbox = _Outbox(conn)

        def reading(item_id: int) -> None:
            # Everything read before this page is sent first: if this page crashes the worker,
            # the crawl's process knows it is the only one it lost.
            outbox.flush()
            conn.send(("reading", item_id))

        asyncio.run(fetch_and_read(jobs, settings, outbox.put, reading if announce else None, reader,
                                   warm=lambda: prepare_reading(topic_defs)))
        outbox.flush()
    except (BrokenPipeError, EOFError, OSError):
        pass  # the crawl's process is gone (killed): nothing is left to report to
    finally:
        conn.close()


def concurrency_shares(host_counts: Sequence[int], concurrency: int, per_host: int) -> list[int]:
    """Each worker's part of the global cap: as many requests as its hosts may have in flight, cut in
    proportion when all of them together may have more than the cap; at least one each.

    (Equal parts starved the worker with more hosts: three workers over ten hosts, five requests per
    host and a cap of 50 gave the one with four hosts 16 slots for its 20.)
    """
    wants = [max(1, hosts * max(per_host, 1)) for hosts in host_counts]
    total = sum(wants)
    if total <= concurrency:
        return wants
    return [max(1, concurrency * want // total) for want in wants]


@dataclass
class _Shard:
    jobs: dict[int, Job]
    settings: Settings
    process: Any = None
    conn: Any = None
    reading: int | None = None
    restarts: int = 0


def start_method() -> str:
    """"fork" where that is safe: Linux (macOS's system libraries do not survive a fork), with no other
    thread running in this process (a fork copies the locks another thread may be holding).

    A forked worker inherits the crawl's database connections but never touches them: it ends with
    os._exit (multiprocessing's way), so it does not even close them.
    """
    import threading

    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While inside, spawned processes do not run this program's main script again.

    A spawned process re-imports the parent's `__main__` (as `__mp_main__`) unless it is a package's
    `__main__`. Started through the `tracker` console script that meant importing the whole command
    line and typer in every worker; started from a script without a `__name__` guard, running the
    script again. A worker needs nothing from it: its target lives in this module.
    """
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """While inside, the garbage collector leaves every object that exists now alone.

    A forked worker shares its parent's memory until either writes to a page. Its collector, walking
    the inherited objects, would write to all of them (their GC headers) and so copy every page
    they live on; frozen objects are never walked, in the worker, which inherits the freeze.
    """
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Workers:
    """Worker processes, started before the crawl knows what they will fetch.

    A forked worker has httpx from the start (loaded here, before forking); a spawned one spends its
    first 0.2-0.3 s starting an interpreter and loading httpx. The crawl's process meanwhile reads
    what is due from the database, then hands out the shares with `run`. Workers left without a
    share are told so and exit. Use as a context manager: leaving it ends every worker.
    """

    def __init__(self, count: int, reader: Reader = read_safely, method: str | None = None) -> None:
        import multiprocessing

        self.method = method or start_method()
        self.context: Any = multiprocessing.get_context(self.method)
        self.reader = reader
        self.idle: list[tuple[Any, Any]] = []  # (process, conn) waiting for a share
        self.running: list[_Shard] = []
        self.dismissed: list[Any] = []
        if count and self.method == "fork":
            # Loaded here, once, rather than by each forked worker: on two cores, two workers loading
            # httpx beside this process reading what is due got their first requests out 0.13-0.2 s
            # into the crawl; loaded first, 0.13 s for every worker. (Forked workers also share
            # these modules' memory with this process.)
            prepare_fetching()
        for _ in range(count):
            self.idle.append(self._start())

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def count(self) -> int:
        """Workers started and not yet given a share."""
        return len(self.idle)

    def _start(self) -> tuple[Any, Any]:
        ours, theirs = self.context.Pipe()
        # A forked worker inherits this process's end of its own pipe and of every other worker's.
        # It closes them first: otherwise, when this process is killed, its sends still find a
        # reader (itself), and it crawls on for nobody until the pipe fills and it blocks for good.
        inherited = [ours, *(conn for _process, conn in self.idle), *(shard.conn for shard in self.running)] \
            if self.method == "fork" else []
        process = self.context.Process(target=_worker, args=(theirs, self.reader, inherited), daemon=True)
        with _gc_frozen() if self.method == "fork" else _main_module_hidden():
            process.start()
        # Closed at once, so that a worker's death reads as the end of its pipe (and a worker forked
        # later does not inherit this end).
        theirs.close()
        return process, ours

    def run(self, shards: list[list[Job]], settings: Settings, topic_defs: Sequence[Any],
            on_results: Callable[[list[tuple[int, Outcome]]], None],
            host_of: Callable[[str], str] = host_key) -> None:
        """Run each shard in a worker of its own, passing results to `on_results` in arrival batches.

        Each worker gets its part of the global concurrency cap (see `concurrency_shares`), so the
        cap holds overall. `host_of` gives a request URL's host (the crawl passes the hosts it has
        already worked out for `split_by_host`).
        """
        import selectors

        caps = concurrency_shares([len({host_of(job.request.url) for job in jobs}) for jobs in shards],
                                  settings.concurrency, settings.per_host)
        defs = list(topic_defs)
        # One selector for the whole crawl: multiprocessing's wait() and poll() build and tear down a
        # selector on every call, which was a fifth of this process's CPU in the crawl benchmark.
        selector = selectors.DefaultSelector()
        live: dict[Any, _Shard] = {}

        def give(shard: _Shard) -> None:
            shard.process, shard.conn = self.idle.pop() if self.idle else self._start()
            shard.reading = None
            self.running.append(shard)
            live[shard.conn] = shard
            selector.register(shard.conn, selectors.EVENT_READ)
            # A worker says which page it is about to read only once its shard has crashed: a
            # message a page is not worth paying for when nothing goes wrong.
            with contextlib.suppress(OSError):  # a worker that died already is seen as ended below
                shard.conn.send((list(shard.jobs.values()), shard.settings, defs, shard.restarts > 0))

        def ended(shard: _Shard) -> list[tuple[int, Outcome]]:
            selector.unregister(shard.conn)
            del live[shard.conn]
            self.running.remove(shard)
            owed = _worker_ended(shard)
            if shard.jobs and shard.restarts <= MAX_RESTARTS:
                give(shard)
            return owed

        try:
            for jobs, cap in zip(shards, caps, strict=True):
                give(_Shard(jobs={job.id: job for job in jobs}, settings=replace(settings, concurrency=cap)))
            self._dismiss_idle()
            while live:
                batch: list[tuple[int, Outcome]] = []
                gathered_until: float | None = None
                # Results that arrive within BATCH_WINDOW of the first share one commit: a commit
                # costs more than storing a page, and a killed crawl loses at most that much.
                while live and (gathered_until is None or time.monotonic() < gathered_until):
                    timeout = None if gathered_until is None else max(0.0, gathered_until - time.monotonic())
                    ready = selector.select(timeout)
                    if not ready:
                        break
                    for key, _events in ready:
                        shard = live[key.fileobj]
                        try:
                            message = shard.conn.recv()  # one message a turn; the selector reports the rest
                        except (EOFError, OSError):
                            batch += ended(shard)
                            continue
                        if message[0] == "reading":
                            shard.reading = message[1]
                        else:
                            for item_id, outcome in message[1]:
                                shard.jobs.pop(item_id, None)
                                batch.append((item_id, outcome))
                            shard.reading = None
                    if batch and gathered_until is None:
                        gathered_until = time.monotonic() + BATCH_WINDOW
                if batch:
                    on_results(batch)
        finally:
            selector.close()

    def _dismiss_idle(self) -> None:
        """Tell workers without a share to exit (they are joined in `close`, not waited for now)."""
        for process, conn in self.idle:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
            self.dismissed.append(process)
        self.idle = []

    def close(self) -> None:
        """End every worker: idle ones are told to go, running ones are stopped."""
        self._dismiss_idle()
        for shard in self.running:
            shard.process.terminate()
        for process in [shard.process for shard in self.running] + self.dismissed:
            process.join()
        for shard in self.running:
            shard.conn.close()
        self.running, self.dismissed = [], []


def run_in_workers(shards: list[list[Job]], settings: Settings, topic_defs: Sequence[Any],
                   on_results: Callable[[list[tuple[int, Outcome]]], None], reader: Reader = read_safely,
                   method: str | None = None) -> None:
    """Start a worker for each shard and run them (see `Workers`); `method` is "fork" or "spawn"
    (None: `start_method()`)."""
    with Workers(len(shards), reader, method) as workers:
        workers.run(shards, settings, topic_defs, on_results)


def _worker_ended(shard: _Shard) -> list[tuple[int, Outcome]]:
    """Results owed by a worker that has exited: the page it died reading (known once its shard has
    crashed before, see `Workers.run`), or everything if it keeps dying."""
    shard.conn.close()
    shard.process.join()
    if not shard.jobs:
        return []
    shard.restarts += 1
    blamed = [shard.reading] if shard.reading in shard.jobs else []
    if shard.restarts > MAX_RESTARTS:
        blamed = list(shard.jobs)
    code = shard.process.exitcode
    out = []
    for item_id in blamed:
        job = shard.jobs.pop(item_id)
        reason = "the page crashed the page reader" if item_id == shard.reading else \
            f"crawl worker stopped (exit code {code})"
        out.append((item_id, failed(job.url, reason)))
    return out


def run_here(jobs: Iterable[Job], settings: Settings, topic_defs: Sequence[Any], emit: Emit) -> None:
    """Fetch and read in this process, for small crawls."""
    start_reader(topic_defs)
    asyncio.run(fetch_and_read(list(jobs), settings, emit))
