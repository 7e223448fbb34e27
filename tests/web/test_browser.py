"""The web app in a real headless Chromium (Debian's, driven by Playwright): click through, check with the CLI."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_tracker
from tests.web.conftest import Served, Site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"),
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium under Playwright (its own browser download is not used: Debian's binary is)."""
    # CI installs it (the test extra); elsewhere a missing Playwright skips, as a missing chromium does.
    name = "playwright.sync_api"
    sync_api = import_module(name) if os.environ.get("CI") else pytest.importorskip(name)
    assert CHROMIUM is not None, "CI must install chromium (.ci/run does)"
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def shown(db_path: Path, item: int) -> dict[str, Any]:
    """`tracker show ITEM --json` from a separate process, as a person would check."""
    result = run_tracker("show", str(item), "--json", env={"TRACKER_DB": str(db_path)})
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def snap(page: Any, name: str) -> None:
    """Save a screenshot of the whole page as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_click_through_the_app(browser: Any, served: Served, site: Site, db_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))

    page.goto(served.url)
    assert page.locator("h1").inner_text() == "Outline"
    snap(page, "outline")
    page.get_by_role("link", name="Basics").click()
    page.wait_for_url("**/topic/basics")
    assert page.title() == "Basics · tracker"  # no title-changing script ran
    page.locator("a", has_text="onmouseover").hover()  # the hostile title is text, not an attribute
    assert page.title() == "Basics · tracker"

    # One click marks an item digested; the page's script updates the row without a reload.
    first = page.locator(f'tr[data-item="{site.basics[0]}"]')
    first.locator('button[value="digested"]').click()
    first.locator(".status").filter(has_text="digested").wait_for()
    assert first.locator('button[value="digested"]').is_disabled()
    snap(page, "topic")
    assert shown(db_path, site.basics[0])["status"] == "digested"

    # The item page: a note, then the history shows the mark.
    page.goto(f"{served.url}item/{site.basics[0]}")
    page.get_by_placeholder("Add a line").fill("BN smooths the loss surface")
    page.get_by_role("button", name="Add note").click()
    page.locator(".notes-text", has_text="BN smooths the loss surface").wait_for()
    assert shown(db_path, site.basics[0])["notes"] == "BN smooths the loss surface"
    snap(page, "item")

    # The inbox: accept a paper with its button.
    page.get_by_role("link", name="Inbox").click()
    paper = page.locator(f'article[data-item="{site.papers["2411.00001"]}"]')
    paper.get_by_role("button", name="Accept").click()
    paper.locator(".outcome", has_text="accepted").wait_for()
    assert shown(db_path, site.papers["2411.00001"])["status"] == "unread"
    snap(page, "inbox")

    for name in ("week", "next"):
        page.get_by_role("link", name=name.capitalize(), exact=True).click()
        page.wait_for_url(f"**/{name}")
        snap(page, name)
    assert page.locator("ol.next li").count() >= 1

    assert not problems, problems  # no CSP violation, no script error
    assert all(url.startswith(served.url) for url in asked), [u for u in asked if not u.startswith(served.url)]
    context.close()


def test_search_from_the_bar(browser: Any, served: Served, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(served.url)
    page.get_by_label("Search", exact=True).fill("Generative")
    page.get_by_label("Search", exact=True).press("Enter")
    page.wait_for_url("**/search?q=Generative*")
    page.locator("ol.hits li").first.wait_for()
    assert page.locator("ol.hits a", has_text="Generative adversarial networks explained").count() == 1
    assert page.locator("ol.hits .snippet b").count() >= 1  # the match in bold
    snap(page, "search")
    assert not problems, problems
    context.close()


def test_the_forms_work_without_javascript(browser: Any, served: Served, site: Site, db_path: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{served.url}topic/basics")
    row = page.locator(f'tr[data-item="{site.gen[0]}"]')
    assert row.count() == 0  # another topic's item
    row = page.locator(f'tr[data-item="{site.basics[0]}"]')
    row.locator('button[value="reading"]').click()
    page.wait_for_url("**/topic/basics")
    assert row.locator(".status").inner_text() == "reading"  # the page came back with the new status
    assert shown(db_path, site.basics[0])["status"] == "reading"

    page.goto(f"{served.url}inbox")
    page.locator(f'input[type=checkbox][value="{site.papers["2411.00002"]}"]').check()
    page.locator("#selection").get_by_role("button", name="Dismiss selected").click()
    page.wait_for_url("**/inbox")
    assert shown(db_path, site.papers["2411.00002"])["status"] == "dismissed"
    assert page.locator(f'article[data-item="{site.papers["2411.00002"]}"]').count() == 0
    context.close()
