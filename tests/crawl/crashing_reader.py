"""A page reader that kills its process on one URL, standing in for a page that crashes lxml.

It lives in its own module so that a crawl started in another process can import it by name.
"""

from __future__ import annotations

import os

from tracker.crawl.fetcher import Response
from tracker.crawl.reading import Outcome, read_safely


def read_or_die(url: str, is_child: bool, response: Response, classify: bool) -> Outcome:
    """Read the page, unless its URL says `/crash`: then end the process the way a segfault would."""
    if "/crash" in url:
        os._exit(139)
    return read_safely(url, is_child, response, classify)
