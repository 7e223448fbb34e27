"""`tracker crawl` and its progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from tracker.cli.app import JsonOpt, app, run, user_errors
from tracker.cli.output import emit_json
from tracker.errors import UsageError


def crawl_settings(concurrency: int = 8, per_host: int = 1, delay: float = 1.0, timeout: float = 20.0,
                   max_bytes: int = 5_000_000) -> Any:
    """Crawl limits from the options, rejecting values that make no sense."""
    from tracker.crawl.fetcher import Settings

    if concurrency < 1 or per_host < 1:
        raise UsageError("--concurrency and --per-host must be 1 or more")
    if delay < 0 or timeout <= 0 or max_bytes < 1:
        raise UsageError("--delay must be 0 or more, --timeout and --max-bytes more than 0")
    return Settings(concurrency=concurrency, per_host=per_host, delay=delay, timeout=timeout, max_bytes=max_bytes)


@app.command("crawl")
def crawl_cmd(
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight at once, all hosts together."),
    per_host: int = typer.Option(1, "--per-host", help="Requests in flight to one host."),
    delay: float = typer.Option(1.0, "--delay", help="Seconds between two requests to one host."),
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds one request may take, all of it."),
    max_bytes: int = typer.Option(5_000_000, "--max-bytes", help="Largest page body read (after decompression)."),
    force: bool = typer.Option(False, "--force", help="Fetch every item again, fresh or not."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch the curated links: each site's metadata, every failure recorded, politely."""
    from tracker.crawl.run import crawl

    with user_errors():
        settings = crawl_settings(concurrency, per_host, delay, timeout, max_bytes)
    if as_json or not sys.stdout.isatty():
        summary = run(lambda database: crawl(database, settings, force=force))
    else:
        with crawl_progress() as report:
            summary = run(lambda database: crawl(database, settings, force=force, progress=report))
    if as_json:
        emit_json(summary.as_json())
    else:
        print(", ".join(f"{n} {name}" for name, n in summary.as_json().items()))


@contextmanager
def crawl_progress(screen: Any = None, every: float = 0.1) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the crawl on `screen` (a rich console; None: the terminal), redrawn as
    results arrive, at most every `every` seconds.

    Drawn from the crawl's own thread, not by rich's refresh thread: the crawl forks its workers
    only from a process with no other thread running (see `tracker.crawl.workers.start_method`).
    """
    import time

    from rich.progress import Progress

    with Progress(transient=True, auto_refresh=False, console=screen) as bar:
        task = bar.add_task("crawling", total=None)
        drawn = [0.0]

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - drawn[0] >= every or done == total:
                drawn[0] = now
                bar.refresh()

        yield report
