"""`tracker serve`: the local web app (Starlette, Jinja2 and uvicorn are imported only here)."""

from __future__ import annotations

import sys

import typer

from tracker.cli.app import app, open_database, user_errors
from tracker.errors import UsageError


@app.command("serve", epilog="Example: tracker serve --open")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (anything but loopback is "
                                                           "reachable by others: the app has no accounts)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0: any free port)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the app in the default browser."),
) -> None:
    """Serve the reading list, the paper inbox and the week in a browser, until interrupted."""
    from tracker.web.server import serve

    def announce(url: str) -> None:
        print(url, flush=True)

    def warn(text: str) -> None:
        sys.stderr.write(text + "\n")

    with user_errors():
        if not 0 <= port <= 65535:
            raise UsageError("--port must be from 0 to 65535")
        database = open_database()
        try:
            serve(database, host, port, announce, warn, open_browser=open_browser)
        finally:
            database.close()
