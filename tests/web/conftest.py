"""A small reading list with papers in the inbox, and the web app over it (in process or as a real server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ROOT, Cli
from tests.papers.records_factory import record
from tests.test_import import write
from tracker.papers.store import store_papers
from tracker.store import db as dbmod
from tracker.web.app import create_app
from tracker.web.security import Guard

OUTLINE = """\
# Course

## Basics

- [Basics one](https://example.org/b1)
- [Basics two](https://example.org/b2)
- [Basics three](https://example.org/b3)

## Generative models

- [Generative adversarial networks explained](https://example.org/g1)
- [GAN two](https://example.org/g2)
"""
TOPICS = """\
[[topic]]
slug = "basics"
title = "Basics"
group = 1

[[topic]]
slug = "gen"
title = "Generative models"
group = 2
"""
EVIL_SCRIPT = "<script>document.title='pwned'</script>"
EVIL_ATTR = '" onmouseover="document.title=\'pwned\'" x="'
EVIL_IMG = "<img src=x onerror=\"document.title='pwned'\">"
NOW = datetime(2026, 11, 20, 12, 0)
HOST, PORT = "127.0.0.1", 8765


@dataclass(frozen=True)
class Site:
    """Ids of what the fixture stored."""

    basics: list[int]  # Basics one, two, three
    gen: list[int]  # GAN explained, GAN two
    papers: dict[str, int]  # arXiv id -> item id


def build_site(cli: Cli, database: dbmod.Database, tmp_path: Path, extra_papers: int = 0) -> Site:
    """Import the outline, make two titles hostile, store papers in the inbox."""
    write(tmp_path / "course.topics.toml", TOPICS)
    cli("import", str(write(tmp_path / "course.md", OUTLINE)))
    rows = cli.json("list")
    ids = [r["id"] for r in rows]
    with database.write() as conn:  # as a crawled page or a feed might title them
        conn.execute(dbmod.item_t.update().where(dbmod.item_t.c.id == ids[1]).values(title=EVIL_SCRIPT))
        conn.execute(dbmod.item_t.update().where(dbmod.item_t.c.id == ids[2]).values(title=EVIL_ATTR))
        store_papers(conn, [
            record("2411.00001", title="Adversarial training of generative networks",
                   abstract="Generative adversarial networks with a new discriminator. " + EVIL_IMG),
            record("2411.00002", title=EVIL_SCRIPT + " protein folding", abstract="Proteins " + EVIL_SCRIPT),
            *[record(f"2411.{i + 100:05d}", title=f"Filler paper {i}", abstract="Filler text about nothing.")
              for i in range(extra_papers)],
        ], NOW, query_slug="gen")
    papers = {r["arxiv_id"]: r["id"] for r in cli.json("list", "--status", "inbox")}
    return Site(basics=ids[:3], gen=ids[3:5], papers=papers)


@pytest.fixture
def site(cli: Cli, database: dbmod.Database, tmp_path: Path) -> Site:
    """The reading list and inbox the web tests share."""
    return build_site(cli, database, tmp_path)


@pytest.fixture
def guard() -> Guard:
    """The address and CSRF token of the app under test."""
    return Guard(host=HOST, port=PORT)


@pytest.fixture
def client(database: dbmod.Database, guard: Guard) -> Iterator[TestClient]:
    """Starlette's test client on the app over the test database, as served at 127.0.0.1:8765."""
    with TestClient(create_app(database, guard=guard), base_url=f"http://{HOST}:{PORT}",
                    follow_redirects=False) as test_client:
        yield test_client


@dataclass
class Served:
    """A `tracker serve` process and the address it printed."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> int:
        """Interrupt it as a person would (Ctrl-C) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def start_server(db_path: Path, *args: str) -> Served:
    """`python -m tracker serve --port 0 ...` on the test database; waits for its first line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKER_DB": str(db_path)}
    process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", "0", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith("http://"):
        process.kill()
        raise AssertionError(f"serve printed {first!r}; stderr: {process.stderr.read() if process.stderr else ''}")
    return Served(process=process, url=first)


@pytest.fixture
def served(db_path: Path, site: Site) -> Iterator[Served]:
    """A real `tracker serve` on 127.0.0.1 and a free port, stopped after the test."""
    server = start_server(db_path)
    yield server
    server.stop()
