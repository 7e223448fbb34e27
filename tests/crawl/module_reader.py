"""A page reader that reports, as the page's title, whether its worker process has trio loaded.

It lives in its own module so that a spawned worker process can import it by name.
"""

from __future__ import annotations

import sys
import types
from dataclasses import replace

from tracker.crawl.fetcher import Response
from tracker.crawl.reading import Outcome, read_safely


def read_and_report_trio(url: str, is_child: bool, response: Response, classify: bool) -> Outcome:
    """Read the page; its title says whether trio (which a worker has no use for) was imported."""
    loaded = isinstance(sys.modules.get("trio"), types.ModuleType)
    return replace(read_safely(url, is_child, response, classify), title=f"trio loaded: {loaded}")
