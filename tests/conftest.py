"""Fixtures every test area shares: a fresh file database, the CLI, a real loopback HTTP server."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.store import db as dbmod

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's database, proxies or endpoints, or talks to the internet."""
    for name in ("TRACKER_DB", "GITHUB_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_ARXIV_DELAY", "0")
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", "http://127.0.0.1:9/rss")
    monkeypatch.setenv("TRACKER_GITHUB_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Path of a fresh database file, also exported as TRACKER_DB."""
    path = tmp_path / "db" / "tracker.db"
    monkeypatch.setenv("TRACKER_DB", str(path))
    return path


@pytest.fixture
def database(db_path: Path) -> Iterator[dbmod.Database]:
    """A fresh, migrated SQLite file database."""
    database = dbmod.open_db("sqlite:///" + str(db_path))
    yield database
    database.close()


@dataclass
class Cli:
    """Runs `tracker` in-process against the test database."""

    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, code: int | None = 0) -> Any:
        result = self.runner.invoke(app, list(args), catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        result = self(*args, "--json", code=code)
        return json.loads(result.stdout)


@pytest.fixture
def cli(db_path: Path) -> Cli:
    """The CLI, bound to the fresh database of `db_path`."""
    return Cli()


def run_tracker(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                timeout: float = 120) -> Any:
    """Run `python -m tracker` as a real process (for exit codes, stderr, concurrency)."""
    import subprocess

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


# --- a real HTTP server on 127.0.0.1 ----------------------------------------------------

Handler = Callable[[BaseHTTPRequestHandler], None]


def reply(status: int = 200, body: bytes | str = b"", headers: dict[str, str] | None = None) -> Handler:
    """A handler that answers with a fixed status, headers and body."""
    data = body.encode() if isinstance(body, str) else body

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(status)
        hdrs = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        for name, value in hdrs.items():
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(data)

    return handle


class _QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up is no error here: the crawler resets connections on purpose (a body cut at
    its cap, a deadline). socketserver would print the traceback from its thread, outside any test's
    captured output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """A threaded HTTP server whose routes the test sets: path (with query) -> handler."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        routes, requests = self.routes, self.requests

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _dispatch(self) -> None:
                requests.append((self.command, self.path, dict(self.headers)))
                handler = routes.get(self.path) or routes.get(self.path.split("?", 1)[0])
                if handler is None:
                    handler = routes.get("*") or reply(404, "<title>Not found</title>")
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            do_GET = do_HEAD = do_POST = _dispatch

        self.httpd = _QuietHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return self.base + path

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A started loopback HTTP server, stopped after the test."""
    srv = LocalServer().start()
    yield srv
    srv.stop()
