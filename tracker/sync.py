"""`tracker sync`: the main job for cron — import seeds, crawl what is due, fetch papers, report progress.

Each step runs even when an earlier one failed: a sync with no network still imports,
records every failed link and paper query, and prints progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracker.errors import TrackerError

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
