"""A page reader that reports, as the page's title, which of trio and click its worker process loaded.

It lives in its own module so that a spawned worker process can import it by name.
"""

from __future__ import annotations

import sys
import types
from dataclasses import replace

from tracker.crawl.fetcher import Response
from tracker.crawl.reading import Outcome, read_safely


def read_and_report_imports(url: str, is_child: bool, response: Response, classify: bool) -> Outcome:
    """Read the page; its title lists which of trio and click (a worker has no use for either) were imported."""
    loaded = [name for name in ("trio", "click") if isinstance(sys.modules.get(name), types.ModuleType)]
    return replace(read_safely(url, is_child, response, classify), title=f"loaded: {loaded}")
