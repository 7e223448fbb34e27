"""The `tracker` command line: one module per group of commands, over the core functions.

`app` holds the shared options and helpers; `items`, `crawl`, `papers`, `reports`, `sync` and `serve`
register their commands on it when imported here.
"""

from __future__ import annotations

import sys
from importlib import import_module

import typer

from tracker.cli.app import app

__all__ = ["app", "main"]

# Each module registers its commands when imported; `--help` lists them in this order.
COMMAND_MODULES = ("items", "reports", "crawl", "papers", "sync", "serve", "search")
for _name in COMMAND_MODULES:
    import_module(f"tracker.cli.{_name}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: typer's own usage errors become one `error:` line too."""
    _run_app(argv)


def _run_app(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (bad option, missing argument, wrong type): exit 2 like every user error.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        sys.stderr.write(f"error: {' '.join(message.split())}\n")
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
