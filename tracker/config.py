"""Where things are: database, seeds, network endpoints.

Precedence is always flag > environment > workspace > per-user directory, so that
cron jobs, tests and people at a terminal can each point the tool elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_RSS = "https://rss.arxiv.org/rss"
DEFAULT_GITHUB_API = "https://api.github.com"
USER_AGENT = "tracker/0.1 (reading-list tracker; +https://pypi.org/project/tracker/)"


@dataclass(frozen=True)
class Endpoints:
    """Network endpoints, overridable for mirrors and tests."""

    arxiv_api: str
    arxiv_rss: str
    github_api: str
    github_token: str | None
    arxiv_delay: float


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest directory from `start` upward that holds `seeds/` or `db/`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "seeds").is_dir() or (folder / "db").is_dir():
            return folder
    return None


def user_data_dir() -> Path:
    """Per-user data directory, used when no workspace is found."""
    from platformdirs import user_data_path

    return Path(user_data_path("tracker", appauthor=False))


def database_url(flag: str | None = None, start: Path | None = None) -> str:
    """The SQLAlchemy URL of the database to use."""
    value = flag or os.environ.get("TRACKER_DB")
    if value:
        return value if "://" in value else "sqlite:///" + str(Path(value).expanduser().resolve())
    workspace = find_workspace(start)
    base = workspace / "db" if workspace else user_data_dir()
    return "sqlite:///" + str(base / "tracker.db")


def seeds_dir(start: Path | None = None) -> Path | None:
    """The workspace's `seeds/` folder, if there is one."""
    workspace = find_workspace(start)
    if workspace and (workspace / "seeds").is_dir():
        return workspace / "seeds"
    return None


def cookies_file(flag: str | Path | None = None) -> Path | None:
    """The learner's cookies.txt for crawling: the flag, else TRACKER_COOKIES; None when neither names one."""
    value = flag or os.environ.get("TRACKER_COOKIES")
    return Path(value).expanduser() if value else None


def arxiv_delay() -> float:
    """Seconds between two requests to arXiv: TRACKER_ARXIV_DELAY, default 3 (arXiv's terms).

    A value that is not a number of seconds, 0 or more, is a UsageError naming the variable: read
    silently as the default, a typo would hide that the setting is ignored.
    """
    import math

    from tracker.errors import UsageError

    value = os.environ.get("TRACKER_ARXIV_DELAY", "").strip()
    if not value:
        return 3.0
    try:
        delay = float(value)
    except ValueError:
        delay = math.nan
    if not math.isfinite(delay) or delay < 0:
        raise UsageError(f"TRACKER_ARXIV_DELAY must be a number of seconds, 0 or more, not {value!r}")
    return delay


def endpoints() -> Endpoints:
    """Network endpoints from the environment, with the public defaults; UsageError for a malformed delay."""
    env = os.environ
    return Endpoints(
        arxiv_api=env.get("TRACKER_ARXIV_API_URL") or DEFAULT_ARXIV_API,
        arxiv_rss=(env.get("TRACKER_ARXIV_RSS_URL") or DEFAULT_ARXIV_RSS).rstrip("/"),
        github_api=(env.get("TRACKER_GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/"),
        github_token=env.get("GITHUB_TOKEN") or None,
        arxiv_delay=arxiv_delay(),
    )
