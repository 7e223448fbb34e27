"""`tracker sync`: the main job for cron — import seeds, crawl what is due, fetch papers, report progress.

The pipeline lives here, not in a command, so that the command line and the web app run the same
steps. Each step runs even when an earlier one failed: a sync with no network still imports,
records every failed link and paper query, and prints progress. Two syncs never overlap: the whole
pipeline runs under the sync lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.errors import TrackerError

if TYPE_CHECKING:
    from tracker.report.progress import Progress
    from tracker.store.db import Database

Step = Callable[[], dict[str, Any]]


@dataclass
class SyncSummary:
    """What each step reported, and the steps that could not complete."""

    steps: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """True when every step ran to its end (single failed links do not count)."""
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        """The contract's shape: each step's summary under its name, plus what failed."""
        return {**self.steps, "failed": self.failed}


@dataclass(frozen=True)
class SyncReport:
    """A finished sync: the steps' summaries and progress afterwards."""

    summary: SyncSummary
    progress: Progress

    def as_json(self) -> dict[str, Any]:
        """`tracker sync --json`: the steps under their names, what failed, and progress."""
        return {**self.summary.as_json(), "progress": self.progress.as_json()}

    def lines(self) -> list[str]:
        """One line per step, for a person or a log."""
        return [step_line(name, self.summary.steps[name], self.summary.failed.get(name))
                for name in self.summary.steps]


def run_steps(steps: list[tuple[str, Step]]) -> SyncSummary:
    """Run the steps in order; a step that raises is recorded and the next one still runs."""
    summary = SyncSummary()
    for name, step in steps:
        try:
            summary.steps[name] = step()
        except TrackerError as exc:
            summary.steps[name] = None
            summary.failed[name] = str(exc)
        except Exception as exc:  # a whole step broke: say so, keep going, exit 1 at the end
            summary.steps[name] = None
            summary.failed[name] = f"{type(exc).__name__}: {exc}"
    return summary


def sync(database: Database) -> SyncReport:
    """Import the seeds, crawl what is due, fetch new papers and close past weeks, under the sync lock."""
    from tracker import config, lock
    from tracker.report.progress import compute_progress

    with lock.exclusive(lock.lock_path_for(database.url, config.user_data_dir())):
        summary = run_steps([("import", lambda: import_seeds(database)), ("crawl", lambda: crawl_due(database)),
                             ("papers", lambda: fetch_papers(database)), ("weeks", lambda: close_weeks(database))])
        with database.read() as conn:
            return SyncReport(summary=summary, progress=compute_progress(conn))


def import_seeds(database: Database) -> dict[str, Any]:
    """The import step: every outline of the workspace's seeds."""
    from tracker import config, ingest

    seeds = config.seeds_dir()
    paths = ingest.outline_paths(seeds, []) if seeds else []
    return ingest.import_files(database, paths).as_json()


def crawl_due(database: Database) -> dict[str, Any]:
    """The crawl step, with the polite defaults; its failures grouped by cause under `causes`."""
    from tracker.crawl.causes import causes_since
    from tracker.crawl.run import crawl
    from tracker.crawl.settings import Settings
    from tracker.store.db import utcnow

    started = utcnow()
    counts = crawl(database, Settings()).as_json()
    with database.read() as conn:
        causes = causes_since(conn, started)
    return {**counts, "causes": {state: dict(found) for state, found in causes.items()}}


def fetch_papers(database: Database, topic: str | None = None, days: int | None = None,
                 max_results: int | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The papers step (and `tracker papers fetch`): every stored topic's query and the daily feeds."""
    from tracker import topics
    from tracker.papers.fetch import fetch_papers as fetch

    with database.read() as conn:
        defs = topics.topic_defs(conn)
    return dict(fetch(database, defs, topic=topic, days=days, max_results=max_results, progress=progress).as_json())


def close_weeks(database: Database) -> dict[str, Any]:
    """Weeks that ended since the last sync get their checkpoint, so old weeks report fast."""
    from tracker.report.moments import close_weeks as close

    with database.write() as conn:
        return {"closed": close(conn)}


def step_line(name: str, data: Mapping[str, Any] | None, failed: str | None = None) -> str:
    """`crawl: 90 checked — 3 ok, 79 blocked (login), 8 error (offline)`: one step for people."""
    if failed is not None or data is None:
        return f"{name}: failed — {failed or 'no result'}"
    describe = _DESCRIBE.get(name)
    return f"{name}: {describe(data) if describe else _plain(data)}"


def import_line(data: Mapping[str, Any]) -> str:
    """An import summary in words."""
    items = data["items"]
    return (f"{data['files']} file(s), {data['topics']} topics: {items['added']} added, {items['updated']} updated, "
            f"{items['unchanged']} unchanged, {items['retired']} retired")


def crawl_line(data: Mapping[str, Any]) -> str:
    """A crawl summary in words, failures grouped by cause."""
    from collections import Counter

    from tracker.crawl.causes import summary_line

    causes = {state: Counter(found) for state, found in (data.get("causes") or {}).items()}
    return summary_line(data, causes)


def papers_line(data: Mapping[str, Any]) -> str:
    """A paper fetch in words; its errors grouped, not one line each."""
    line = (f"{data['queries']} queries, {data['fetched']} fetched — {data['new']} new, {data['updated']} updated"
            + (f", {data['resolved']} outline links resolved" if data.get("resolved") else ""))
    errors = list(data.get("errors") or [])
    if errors:
        first = errors[0]
        line += f"; {len(errors)} failed ({first}{', …' if len(errors) > 1 else ''})"
    return line


def _plain(data: Mapping[str, Any]) -> str:
    return ", ".join(f"{value} {key}" for key, value in data.items() if isinstance(value, int | float))


_DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "import": import_line, "crawl": crawl_line, "papers": papers_line,
}
