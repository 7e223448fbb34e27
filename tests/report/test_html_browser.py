"""The HTML report in a real headless Chromium: renders, runs no script, asks the network for nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, Cli, LocalServer, reply
from tests.report.test_next import CURRICULUM, TOPICS
from tests.test_import import write
from tracker.store import db as dbmod

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"),
]
EVIL_SCRIPT = "<script>document.title='pwned'</script>"
EVIL_IMG = "<img src=x onerror=\"document.title='pwned'\">"


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium with the flags this closed network needs; return stdout."""
    assert CHROMIUM is not None, "CI must install chromium (.ci/run does)"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout


def test_html_report_in_chromium(cli: Cli, tmp_path: Path, database: dbmod.Database, server: LocalServer) -> None:
    write(tmp_path / "course.topics.toml", TOPICS)
    cli.json("import", str(write(tmp_path / "course.md", CURRICULUM)))
    items = cli.json("list")
    cli("mark", str(items[0]["id"]), str(items[1]["id"]), "digested", "--at", "2026-11-18T10:00")
    cli("mark", str(items[2]["id"]), "reading", "--at", "2026-11-19T10:00")
    with database.write() as conn:  # as a crawled page or a feed might title them
        conn.execute(dbmod.item_t.update().where(dbmod.item_t.c.id == items[0]["id"]).values(title=EVIL_SCRIPT))
        conn.execute(dbmod.item_t.update().where(dbmod.item_t.c.id == items[1]["id"]).values(title=EVIL_IMG))
    page = tmp_path / "report.html"
    cli("report", "weekly", "--week", "2026-W47", "--format", "html", "--out", str(page))
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")

    server.routes["/report.html"] = reply(200, html)
    dom = chromium(tmp_path, "--dump-dom", server.url("/report.html"))
    assert "<title>Week 2026-W47</title>" in dom  # no script ran to change it
    assert "pwned" in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<img" not in dom
    assert dom.count("<svg") == 2 and "<rect" in dom
    assert "Basics" in dom and "+100.0" in dom
    # The page asked for nothing beyond itself: no scripts, styles, fonts, images or icons.
    assert [path for _, path, _ in server.requests] == ["/report.html"]

    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "weekly-report.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
