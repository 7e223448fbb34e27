"""Running the web app: bind first (so the address printed is the one served), then uvicorn."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from tracker.errors import UsageError
from tracker.store.db import Database
from tracker.web.security import bracketed, is_loopback

NO_ACCOUNTS = ("warning: serving on {host}: the tracker has no accounts or passwords, so anyone who can reach "
               "this address can read and change your reading list")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), or UsageError saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot serve on {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    return sock


def address(host: str, sock: socket.socket) -> str:
    """The URL a browser opens for a server bound to `host` on `sock`."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else bracketed(host)
    return f"http://{shown}:{sock.getsockname()[1]}/"


def serve(database: Database, host: str, port: int, announce: Callable[[str], None],
          warn: Callable[[str], None], open_browser: bool = False) -> None:
    """Serve the app until interrupted: `announce` gets the address first, `warn` the no-accounts warning."""
    import uvicorn

    from tracker.web.app import create_app

    sock = bind(host, port)
    url = address(host, sock)
    announce(url)
    if not is_loopback(host):
        warn(NO_ACCOUNTS.format(host=host))
    app = create_app(database, host=host, port=sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    # uvicorn shuts down cleanly on Ctrl-C, then raises it again: for a server it is the normal end.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
