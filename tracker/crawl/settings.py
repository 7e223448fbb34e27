"""The limits of a crawl: their polite defaults, and the rule that refuses values that make no sense.

Every interface (the `crawl` command, `sync`) builds its settings here and passes only what the user
gave; a value left out (None) takes the default.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from tracker import config
from tracker.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """Limits of a crawl; the defaults are the polite ones (one request per host at a time, a second apart)."""

    concurrency: int = 8
    per_host: int = 1
    delay: float = 1.0
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = config.USER_AGENT
    robots: bool = True
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1:
            raise UsageError("--concurrency and --per-host must be 1 or more")
        if self.delay < 0 or self.timeout <= 0 or self.max_bytes < 1:
            raise UsageError("--delay must be 0 or more, --timeout and --max-bytes more than 0")
        if self.max_redirects < 0 or self.max_retry_after < 0:
            raise UsageError("max_redirects and max_retry_after must be 0 or more")

    @classmethod
    def given(cls, **values: Any) -> Settings:
        """Settings from what the user gave: a value of None takes the default."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise TypeError(f"unknown crawl settings: {', '.join(sorted(unknown))}")
        return cls(**{name: value for name, value in values.items() if value is not None})
