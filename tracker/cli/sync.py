"""`tracker sync`: the main job, for cron."""

from __future__ import annotations

import typer

from tracker.cli.app import JsonOpt, app, run, user_errors
from tracker.cli.output import console, emit_json, plain


@app.command("sync", epilog="Example: tracker sync >> db/sync.log 2>&1")
def sync_cmd(as_json: bool = JsonOpt) -> None:
    """The main job: import the seeds, crawl what is due, fetch new papers, then print progress."""
    from tracker.report.progress import render_progress
    from tracker.sync import sync

    with user_errors():
        report = run(sync)
    if as_json:
        emit_json(report.as_json())
    else:
        for line in report.lines():
            print(plain(line))
        console().print(render_progress(report.progress))
    if not report.summary.completed:
        raise typer.Exit(1)
