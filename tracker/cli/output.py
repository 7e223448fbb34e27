"""Output for people and for scripts: one JSON document, a rich console, progress lines."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(value: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def console() -> Any:
    """A rich console for human output (imported only when a person is reading)."""
    from rich.console import Console

    return Console()


def say(message: str) -> None:
    """Progress lines for a person watching: on stderr, so stdout stays clean for pipes."""
    sys.stderr.write(message + "\n")
