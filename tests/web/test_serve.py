"""`tracker serve` as a real process on 127.0.0.1: its first line, its warning, and the CLI writing meanwhile."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.conftest import ROOT, Cli, run_tracker
from tests.web.conftest import Served, Site, start_server


def token(client: httpx.Client, path: str) -> str:
    """The CSRF token of a page's forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_serve_prints_its_address_first_and_stops_on_ctrl_c(served: Served, site: Site) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)
    answer = httpx.get(served.url)
    assert answer.status_code == 200 and "Basics" in answer.text
    assert served.stop() == 0
    assert served.process.stderr is not None and "Traceback" not in served.process.stderr.read()


def test_the_cli_writes_while_the_server_writes(served: Served, site: Site, db_path: Path) -> None:
    """WAL and immediate transactions: marks, notes and a re-import from the CLI while the web app marks."""
    errors: list[str] = []
    env = {"TRACKER_DB": str(db_path)}

    def web_marks() -> None:
        with httpx.Client(base_url=served.url) as client:
            csrf = token(client, "/topic/basics")
            for n in range(30):
                status = ("reading", "digested")[n % 2]
                answer = client.post(f"/item/{site.basics[0]}/mark", data={"csrf": csrf, "status": status},
                                     headers={"accept": "application/json"})
                if answer.status_code != 200:
                    errors.append(answer.text)

    thread = threading.Thread(target=web_marks)
    thread.start()
    outline = Path.cwd() / "course.md"
    results = []
    for n in range(4):
        results.append(run_tracker("mark", str(site.basics[1]), ("reading", "digested")[n % 2], env=env))
        results.append(run_tracker("note", str(site.basics[1]), f"line {n}", env=env))
    results.append(run_tracker("import", str(outline), env=env))
    results.append(run_tracker("papers", "accept", "2411.00001", env=env))
    thread.join(timeout=120)
    assert not errors
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "locked" not in result.stderr
    shown = run_tracker("show", str(site.basics[1]), "--json", env=env)
    assert '"notes": "line 0\\nline 1\\nline 2\\nline 3"' in shown.stdout
    with httpx.Client(base_url=served.url) as client:
        page = client.get(f"/item/{site.basics[1]}").text
        assert "line 3" in page and 'class="status status-digested">digested<' in page
        assert f'data-item="{site.papers["2411.00001"]}"' not in client.get("/inbox").text


def test_a_host_other_than_loopback_gets_the_warning(db_path: Path, site: Site) -> None:
    server = start_server(db_path, "--host", "0.0.0.0")
    try:
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        assert server.stop() == 0
    assert server.process.stderr is not None
    assert "warning: serving on 0.0.0.0: the tracker has no accounts" in server.process.stderr.read()


def test_a_port_in_use_is_one_error_line(cli: Cli, site: Site) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_tracker("serve", "--port", str(port))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}:") and result.stderr.count("\n") == 1


def test_serve_imports_its_web_libraries_only_itself() -> None:
    probe = ("import sys, tracker.cli; "
             "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "[]", result.stderr
