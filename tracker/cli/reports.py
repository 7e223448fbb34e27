"""Study reports: progress, the weekly report, goals, what to read next."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tracker.cli.app import (
    JsonOpt,
    app,
    check_limit_and_topic,
    read_tx,
    report_app,
    run,
    user_errors,
    write_file,
    write_tx,
)
from tracker.cli.output import console, emit_json, json_text, plain
from tracker.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tracker.report.next import Suggestion


@report_app.command("weekly", epilog="Example: tracker report weekly --week 2026-W47 --format html --out w47.html")
def report_weekly_cmd(
    week: str | None = typer.Option(None, "--week", help="ISO week, e.g. 2026-W47 (default: this week)."),
    fmt: str = typer.Option("md", "--format", help="md, html or json."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (e.g. reports/2026-W47.md)."),
    as_json: bool = JsonOpt,
) -> None:
    """The week's report: digested, started, per-topic change, streak, new papers."""
    from tracker.report import weekly, weeks

    fmt = "json" if as_json else fmt
    with user_errors():
        if fmt not in ("md", "html", "json"):
            raise UsageError(f"unknown report format {fmt!r}: use md, html or json")
        if week is not None:
            weeks.parse_week(week)
    report = run(lambda database: read_tx(database, weekly.weekly_report, week))
    if fmt == "html":
        from tracker.report.html import render_html

        text = render_html(report)
    elif fmt == "json":
        text = json_text(report.as_json()) + "\n"
    else:
        text = weekly.render_markdown(report)
    if out is None:
        sys.stdout.write(plain(text, lines=True))
        return
    with user_errors():
        write_file(out, text)
    if not as_json:
        print(plain(out))


@app.command("goal", epilog="Example: tracker goal cnn 3")
def goal_cmd(
    slug: str | None = typer.Argument(None, help="Topic slug (omit to list goals)."),
    per_week: int | None = typer.Argument(None, help="Items to digest per week; 0 removes the goal."),
    as_json: bool = JsonOpt,
) -> None:
    """Set a weekly goal for a topic (`tracker goal cnn 3`), or list the goals."""
    from tracker.report import goals

    def action(conn: Connection) -> list[dict[str, object]]:
        if slug is not None:
            goals.set_goal(conn, slug, per_week)
        return goals.list_goals(conn)

    rows = run(lambda database: write_tx(database, action))
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"{plain(row['slug'])}: {row['per_week']} per week")


@app.command("next", epilog="Example: tracker next --topic gnn --limit 3")
def next_cmd(
    limit: int = typer.Option(10, "--limit", help="At most N suggestions."),
    topic: str | None = typer.Option(None, "--topic", help="Only this topic."),
    as_json: bool = JsonOpt,
) -> None:
    """What to read next: what you are reading, then the curriculum's next topic."""
    from tracker.report.next import suggest_next

    def action(conn: Connection) -> list[Suggestion]:
        check_limit_and_topic(conn, limit, topic)
        return suggest_next(conn, limit=limit, topic=topic)

    suggestions = run(lambda database: read_tx(database, action))
    if as_json:
        emit_json([s.as_json() for s in suggestions])
        return
    if not suggestions:
        print("nothing left to read: well done")
    for s in suggestions:
        print(f"#{s.id:<5} {plain(s.title)}\n       {plain(s.reason)}")


@app.command("progress", epilog="Example: tracker progress")
def progress_cmd(as_json: bool = JsonOpt) -> None:
    """Progress per outline topic, grouped as the outline groups them, with overall totals."""
    from tracker.report.progress import compute_progress, render_progress

    progress = run(lambda database: read_tx(database, compute_progress))
    if as_json:
        emit_json(progress.as_json())
    else:
        console().print(render_progress(progress))
