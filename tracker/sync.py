"""`tracker sync`: the main job for cron — import seeds, crawl what is due, fetch papers, report progress.

The pipeline lives here, not in a command, so that the command line and the web app run the same
steps. Each step runs even when an earlier one failed: a sync with no network still imports,
records every failed link and paper query, and prints progress. Two syncs never overlap: the whole
pipeline runs under the sync lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker.errors import TrackerError

if TYPE_CHECKING:
    from tracker.crawl.run import CrawlSummary
    from tracker.ingest import ImportSummary
    from tracker.papers.fetch import FetchSummary
    from tracker.report.progress import Progress
    from tracker.store.db import Database

JSON = dict[str, object]


@dataclass(frozen=True)
class StepDone:
    """What a step that ran to its end reports: its summary for scripts, and one line for people."""

    data: JSON
    line: str


Step = Callable[[], StepDone]


@dataclass
class SyncSummary:
    """What each step reported, and the steps that could not complete."""

    steps: dict[str, JSON | None] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """True when every step ran to its end (single failed links do not count)."""
        return not self.failed

    def as_json(self) -> JSON:
        """The contract's shape: each step's summary under its name, plus what failed."""
        return {**self.steps, "failed": self.failed}


@dataclass(frozen=True)
class SyncReport:
    """A finished sync: the steps' summaries and progress afterwards."""

    summary: SyncSummary
    progress: Progress

    def as_json(self) -> JSON:
        """`tracker sync --json`: the steps under their names, what failed, and progress."""
        return {**self.summary.as_json(), "progress": self.progress.as_json()}

    def lines(self) -> list[str]:
        """One line per step, for a person or a log: `crawl: 90 checked — 3 ok, 79 blocked (login)`."""
        return [f"{name}: failed — {self.summary.failed[name]}" if name in self.summary.failed
                else f"{name}: {self.summary.lines[name]}" for name in self.summary.steps]


def run_steps(steps: list[tuple[str, Step]]) -> SyncSummary:
    """Run the steps in order; a step that raises is recorded and the next one still runs."""
    summary = SyncSummary()
    for name, step in steps:
        try:
            done = step()
        except TrackerError as exc:
            summary.steps[name] = None
            summary.failed[name] = str(exc)
        except Exception as exc:  # a whole step broke: say so, keep going, exit 1 at the end
            from tracker.store.db import explain

            known = explain(exc)  # a full disk, a read-only or locked database: its one line
            summary.steps[name] = None
            summary.failed[name] = str(known) if known is not None else f"{type(exc).__name__}: {exc}"
        else:
            summary.steps[name], summary.lines[name] = done.data, done.line
    return summary


def sync(database: Database) -> SyncReport:
    """Import the seeds, crawl what is due, fetch new papers and close past weeks, under the sync lock."""
    from tracker import config, lock
    from tracker.report.progress import compute_progress

    with lock.exclusive(lock.lock_path_for(database.url, config.user_data_dir())):
        summary = run_steps([("import", lambda: import_step(database)), ("crawl", lambda: crawl_step(database)),
                             ("papers", lambda: papers_step(database)), ("weeks", lambda: weeks_step(database))])
        with database.read() as conn:
            return SyncReport(summary=summary, progress=compute_progress(conn))


def import_step(database: Database) -> StepDone:
    """Import every outline of the workspace's seeds."""
    from tracker import config, ingest

    seeds = config.seeds_dir()
    summary = ingest.import_files(database, ingest.outline_paths(seeds, []) if seeds else [])
    return StepDone(summary.as_json(), import_line(summary))


def crawl_step(database: Database) -> StepDone:
    """Crawl what is due with the polite defaults; failures grouped by cause under `causes`."""
    from tracker.crawl.causes import causes_since
    from tracker.crawl.run import crawl
    from tracker.crawl.settings import Settings
    from tracker.store.db import utcnow

    started = utcnow()
    summary = crawl(database, Settings())
    with database.read() as conn:
        causes = causes_since(conn, started)
    data: JSON = {**summary.as_json(), "causes": {state: dict(found) for state, found in causes.items()}}
    return StepDone(data, crawl_line(summary, causes))


def papers_step(database: Database) -> StepDone:
    """Fetch new papers for every stored topic and the daily feeds."""
    summary = fetch_papers(database)
    return StepDone(summary.as_json(), papers_line(summary))


def weeks_step(database: Database) -> StepDone:
    """Weeks that ended since the last sync get their checkpoint, so old weeks report fast."""
    from tracker.report.moments import close_weeks

    with database.write() as conn:
        closed = close_weeks(conn)
    return StepDone({"closed": closed}, f"{closed} closed")


def fetch_papers(database: Database, topic: str | None = None, days: int | None = None,
                 max_results: int | None = None, progress: Callable[[str], None] | None = None,
                 deadline: float | None = None) -> FetchSummary:
    """A paper fetch over the stored topics (the papers step, and `tracker papers fetch`)."""
    from tracker import topics
    from tracker.papers.fetch import DEFAULT_DEADLINE
    from tracker.papers.fetch import fetch_papers as fetch

    with database.read() as conn:
        defs = topics.topic_defs(conn)
    return fetch(database, defs, topic=topic, days=days, max_results=max_results, progress=progress,
                 deadline=DEFAULT_DEADLINE if deadline is None else deadline)


def import_line(summary: ImportSummary) -> str:
    """An import in words."""
    return (f"{summary.files} file(s), {summary.topics} topics: {summary.added} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.retired} retired")


def crawl_line(summary: CrawlSummary, causes: dict[str, Counter[str]]) -> str:
    """A crawl in words, its failures grouped by cause."""
    from tracker.crawl.causes import summary_line

    return summary_line(summary.as_json(), causes)


def papers_line(summary: FetchSummary) -> str:
    """A paper fetch in words; its errors summed up, not one line each."""
    line = (f"{summary.queries} queries, {summary.fetched} fetched — {summary.new} new, {summary.updated} updated"
            + (f", {summary.resolved} outline links resolved" if summary.resolved else ""))
    if summary.errors:
        more = len(summary.errors) - 1
        line += f"; {len(summary.errors)} failed ({summary.errors[0]}{f', and {more} more' if more else ''})"
    return line
