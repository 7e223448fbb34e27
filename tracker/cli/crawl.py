"""`tracker crawl` and its progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from tracker.cli.app import JsonOpt, app, run, user_errors
from tracker.cli.output import emit_json, progress_bar


@app.command("crawl", epilog="Example: tracker crawl --per-host 2 --cookies ~/cookies.txt")
def crawl_cmd(
    concurrency: int | None = typer.Option(None, "--concurrency",
                                           help="Requests in flight at once, all hosts together [default: 8]."),
    per_host: int | None = typer.Option(None, "--per-host", help="Requests in flight to one host [default: 1]."),
    delay: float | None = typer.Option(None, "--delay", help="Seconds between two requests to one host [default: 1]."),
    timeout: float | None = typer.Option(None, "--timeout",
                                         help="Seconds one request may take, all of it [default: 20]."),
    max_bytes: int | None = typer.Option(None, "--max-bytes",
                                         help="Largest page body read, after decompression [default: 5000000]."),
    cookies: str | None = typer.Option(None, "--cookies", help="Your own logins: a Netscape cookies.txt "
                                       "exported from your browser [env TRACKER_COOKIES]."),
    force: bool = typer.Option(False, "--force", help="Fetch every item again, fresh or not."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch the curated links: each site's metadata, every failure recorded, politely."""
    from tracker.crawl.run import crawl
    from tracker.crawl.settings import Settings

    with user_errors():
        settings = Settings.given(concurrency=concurrency, per_host=per_host, delay=delay, timeout=timeout,
                                  max_bytes=max_bytes)
    if as_json or not sys.stdout.isatty():
        summary = run(lambda database: crawl(database, settings, force=force, cookies=cookies))
    else:
        with crawl_progress() as report:
            summary = run(lambda database: crawl(database, settings, force=force, cookies=cookies, progress=report))
    if as_json:
        emit_json(summary.as_json())
        return
    print(", ".join(f"{n} {name}" for name, n in summary.as_json().items() if name != "offline"))
    if summary.offline:
        print(f"offline: {summary.offline} link(s) could not be reached (no network); they are tried again next run")


@contextmanager
def crawl_progress(screen: Any = None, every: float = 0.1) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the crawl on `screen` (a rich console; None: the terminal), redrawn as
    results arrive, at most every `every` seconds (so it needs no refresh thread of its own)."""
    import time

    with progress_bar(screen) as bar:
        task = bar.add_task("crawling", total=None)
        drawn = [0.0]

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - drawn[0] >= every or done == total:
                drawn[0] = now
                bar.refresh()

        yield report
