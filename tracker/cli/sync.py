"""`tracker sync`: the main job, for cron."""

from __future__ import annotations

import json
from typing import Any

import typer

from tracker.cli.app import JsonOpt, app, read_tx, run, state, user_errors
from tracker.cli.crawl import crawl_settings
from tracker.cli.output import console, emit_json
from tracker.cli.papers import fetch_papers_step


@app.command("sync")
def sync_cmd(as_json: bool = JsonOpt) -> None:
    """The main job: import the seeds, crawl what is due, fetch new papers, then print progress."""
    from tracker import config, ingest, lock
    from tracker.report.progress import compute_progress, render_progress
    from tracker.sync import run_steps

    url = config.database_url(state.db_url)

    def action(database: Any) -> Any:
        def import_step() -> dict[str, Any]:
            seeds = config.seeds_dir()
            paths = ingest.outline_paths(seeds, []) if seeds else []
            return ingest.import_files(database, paths).as_json()

        def crawl_step() -> dict[str, Any]:
            from tracker.crawl.run import crawl

            return crawl(database, crawl_settings()).as_json()

        def papers_step() -> dict[str, Any]:
            return dict(fetch_papers_step(database).as_json())

        def weeks_step() -> dict[str, Any]:
            # Weeks that ended since the last sync get their checkpoint, so old weeks report fast.
            from tracker.report.checkpoints import close_weeks

            with database.write() as conn:
                return {"closed": close_weeks(conn)}

        summary = run_steps([("import", import_step), ("crawl", crawl_step), ("papers", papers_step),
                             ("weeks", weeks_step)])
        return summary, read_tx(database, compute_progress)

    with user_errors(), lock.exclusive(lock.lock_path_for(url, config.user_data_dir())):
        summary, progress = run(action)
    if as_json:
        emit_json({**summary.as_json(), "progress": progress.as_json()})
    else:
        for name, step in summary.steps.items():
            print(f"{name}: {summary.failed.get(name) or json.dumps(step, ensure_ascii=False)}")
        console().print(render_progress(progress))
    if not summary.completed:
        raise typer.Exit(1)
