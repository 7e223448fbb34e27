"""The learner's own logins: a Netscape cookies.txt, as browser extensions and `yt-dlp` export it.

The cookies are secrets. They go into the crawl's cookie jar and nowhere else: each one only to
the domains it names (the jar's own rule), never into the database, a log or an error message;
a message about a bad file names the file, never a line of it.
"""

from __future__ import annotations

import time
import warnings
from http.cookiejar import LoadError, MozillaCookieJar
from pathlib import Path

from tracker.errors import InputError, NotFound

MAGIC = "# Netscape HTTP Cookie File"


def load_cookies(path: str | Path) -> MozillaCookieJar:
    """The cookies of a Netscape cookies.txt; raises NotFound or InputError for a file it cannot use."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"cookies file {path} does not exist")
    jar = MozillaCookieJar()
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
        if "HTTP Cookie File" not in first:
            raise InputError(f"cookies file {path} is not a Netscape cookies.txt (its first line should be "
                             f"'{MAGIC}')")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stdlib warns with a traceback before raising LoadError
            jar.load(str(path), ignore_discard=True, ignore_expires=True)
    except LoadError:
        # Its message quotes the offending line, which may hold a cookie's value.
        raise InputError(f"cookies file {path} has a line that is not a cookie in Netscape format") from None
    except UnicodeError:
        raise InputError(f"cannot read cookies file {path}: it is not text") from None
    except OSError as exc:
        raise InputError(f"cannot read cookies file {path}: {exc.strerror or type(exc).__name__}") from None
    return _current(jar)


def _current(jar: MozillaCookieJar) -> MozillaCookieJar:
    """The jar without cookies that have expired; an expiry of 0 is how exporters write a session cookie."""
    now = time.time()
    for cookie in list(jar):
        if cookie.expires == 0:
            cookie.expires, cookie.discard = None, True
        elif cookie.expires is not None and cookie.expires < now:
            jar.clear(cookie.domain, cookie.path, cookie.name)
    return jar
