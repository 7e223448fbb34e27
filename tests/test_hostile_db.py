"""Databases in a hostile world (issue 21, findings 6, 11, 12 and the first-import race of 13).

A full disk, a read-only file or folder, a lock held too long, a database server that accepts and
never answers: one `error:` line each, never a traceback, never a password; what was committed
stays. Another program's SQLite file is refused, byte for byte untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Cli, run_tracker
from tracker.store import db as dbmod

SMALL = "# List\n\n" + "".join(f"- [entry {n}](http://127.0.0.1:9/{n})\n" for n in range(5))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _one_error_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at `folder` (the test is skipped where it cannot be mounted)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)):
        pytest.skip("mounting a small tmpfs needs root and the right to mount here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """`path` (a file or folder) read-only: a read-only bind mount as root, who ignores permissions."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if not (_mount("--bind", str(path), str(path)) and _mount("-o", "remount,ro,bind", str(path))):
        subprocess.run(["umount", str(path)], capture_output=True)
        pytest.skip("a read-only bind mount is not allowed here")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _integrity(path: Path) -> tuple[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute(
            "SELECT count(*) FROM item").fetchone()[0]
    finally:
        conn.close()


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_disk_is_one_error_line_and_loses_nothing(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "700k") as disk:
        env = {"TRACKER_DB": str(disk / "t.db")}
        assert run_tracker("import", str(_write(tmp_path / "small.md", SMALL)), env=env).returncode == 0
        big = _write(tmp_path / "big.md", "# Big\n\n" + "".join(
            f"- [a title long enough to fill a small disk, number {n:05}](https://big.example/{n})\n"
            for n in range(6000)))
        result = run_tracker("import", str(big), env=env)
        _one_error_line(result, 2, "disk holding the database is full")
        assert _integrity(disk / "t.db") == ("ok", 5)
        listed = run_tracker("list", "--json", env=env)
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 5
        # The disk is still full: a sync records the failed step in one line and goes on.
        synced = run_tracker("sync", "--json", env=env,
                             cwd=_seeded(tmp_path, big))
        assert synced.returncode == 1 and "Traceback" not in synced.stderr
        assert "full" in json.loads(synced.stdout)["failed"]["import"]
        # Quite full, the disk refuses even the database's shared-memory file: an export ends in one
        # line (which step fails first is SQLite's business), the old file left as it was.
        old = _write(disk / "export.csv", "old\n")
        with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
        _one_error_line(run_tracker("export", "--format", "csv", "--out", str(old), env=env), 2)
        assert old.read_text(encoding="utf-8") == "old\n"


def _seeded(tmp_path: Path, outline: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "seeds").mkdir(parents=True, exist_ok=True)
    (workspace / "seeds" / outline.name).write_bytes(outline.read_bytes())
    return workspace


# --- read-only file and folder ------------------------------------------------------------------


def test_a_read_only_database_file_is_one_error_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    env = {"TRACKER_DB": str(folder / "t.db")}
    assert run_tracker("import", str(_write(tmp_path / "small.md", SMALL)), env=env).returncode == 0
    with _read_only(folder / "t.db"):
        _one_error_line(run_tracker("mark", "1", "reading", env=env), 2, "read-only")
        _one_error_line(run_tracker("note", "1", "a thought", env=env), 2, "read-only")
        listed = run_tracker("list", "--json", env=env)  # reading still works
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 5
    assert _integrity(folder / "t.db") == ("ok", 5)


def test_a_read_only_folder_is_one_error_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    env = {"TRACKER_DB": str(folder / "t.db")}
    assert run_tracker("import", str(_write(tmp_path / "small.md", SMALL)), env=env).returncode == 0
    with _read_only(folder):
        for command in (["mark", "1", "reading"], ["list"], ["sync"], ["export", "--out", str(folder / "x.json")]):
            _one_error_line(run_tracker(*command, env=env), 2)
    with _read_only(tmp_path):  # a database that would be created in a read-only folder
        _one_error_line(run_tracker("list", env={"TRACKER_DB": str(tmp_path / "new" / "t.db")}), 2,
                        "cannot create the database folder")


def test_the_sync_lock_that_cannot_be_made_is_one_error_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    env = {"TRACKER_DB": str(folder / "t.db")}
    assert run_tracker("list", env=env).returncode == 0
    lock = folder / "t.db.sync.lock"
    lock.write_text("", encoding="utf-8")
    with _read_only(lock):
        _one_error_line(run_tracker("sync", env=env), 2, "cannot take the sync lock", str(lock))


# --- a lock held past the busy timeout ------------------------------------------------------------


def test_a_database_locked_too_long_is_one_error_line_exit_1(cli: Cli, db_path: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cli("import", str(_write(tmp_path / "small.md", SMALL)))
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        result = cli("mark", "1", "reading", code=1)
        assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.stderr.startswith("error: the database is locked") and result.stderr.count("\n") == 1
    assert cli.json("show", "1")["status"] == "unread"


# --- a database server that cannot be reached or never answers ------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on loopback that accepts every connection and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def _needs_postgres_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg (the test extra's PostgreSQL driver) is not installed")


def test_a_silent_database_server_ends_within_the_connect_timeout(silent_server: int) -> None:
    _needs_postgres_driver()
    secret = "pw-" + uuid.uuid4().hex[:8]
    url = f"postgresql://learner:{secret}@127.0.0.1:{silent_server}/tracker"
    started = time.monotonic()
    result = run_tracker("--db", url, "list", timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < dbmod.SERVER_CONNECT_TIMEOUT_S + 15, elapsed
    _one_error_line(result, 2, "cannot open database", "learner:***@127.0.0.1")
    assert secret not in result.stderr + result.stdout


def test_an_unreachable_server_and_info_never_show_the_password(tmp_path: Path) -> None:
    _needs_postgres_driver()
    secret = "pw-" + uuid.uuid4().hex[:8]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://learner:{secret}@127.0.0.1:{port}/tracker?password={secret}"
    result = run_tracker("--db", url, "mark", "1", "digested", timeout=60)
    _one_error_line(result, 2, "cannot open database")
    assert secret not in result.stderr
    info = run_tracker("--db", url, "info", "--json")
    assert info.returncode == 0 and secret not in info.stdout
    assert json.loads(info.stdout)["database"].startswith("postgresql://learner:***@127.0.0.1")
    assert secret not in run_tracker("--db", url, "info").stdout


def test_redaction_of_passwords_in_messages() -> None:
    assert dbmod.redact_url("postgresql://u:p%40ss@h:5432/db?sslmode=require") == \
        "postgresql://u:***@h:5432/db?sslmode=require"
    assert dbmod.redact_url("mysql://root:a@b@host/db") == "mysql://root:***@host/db"
    assert dbmod.redact_url("postgresql://h/db?user=u&password=hunter2&x=1") == \
        "postgresql://h/db?user=u&password=***&x=1"
    assert dbmod.redact_url("failed for hunter22 at h", "postgresql://u:hunter22@h/db") == "failed for *** at h"
    assert dbmod.redact_url("sqlite:////home/u/db/tracker.db") == "sqlite:////home/u/db/tracker.db"


# --- another program's database ---------------------------------------------------------------------


def _foreign(path: Path, journal: str = "delete") -> str:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO contacts (name) VALUES ('Ada')")
    conn.commit()
    conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["list"], ["import"], ["sync"], ["info"], ["progress", "--json"]])
def test_another_programs_database_is_refused_untouched(tmp_path: Path, command: list[str]) -> None:
    other = tmp_path / "contacts.db"
    digest = _foreign(other)
    outline = _write(tmp_path / "small.md", SMALL)
    args = [*command, str(outline)] if command == ["import"] else command
    result = run_tracker("--db", str(other), *args)
    if command == ["info"]:  # info only names the database; it never opens it
        assert result.returncode == 0
    else:
        _one_error_line(result, 2, "another program's database", "contacts")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contacts.db", "small.md"]
    conn = sqlite3.connect(other)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_another_programs_wal_database_is_refused_too(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    _foreign(other, journal="wal")
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    _one_error_line(run_tracker("--db", str(other), "list"), 2, "another program's database")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest


def test_a_tracker_database_with_a_table_of_the_learners_own_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    env = {"TRACKER_DB": str(path)}
    assert run_tracker("import", str(_write(tmp_path / "small.md", SMALL)), env=env).returncode == 0
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE my_notes (body TEXT)")
    conn.commit()
    conn.close()
    assert run_tracker("list", env=env).returncode == 0


def test_an_empty_file_becomes_a_tracker_database(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"")
    assert run_tracker("--db", str(path), "list", "--json").stdout.strip() == "[]"


# --- two first imports into a new database at once ----------------------------------------------


def test_two_first_imports_into_a_new_database_both_succeed(tmp_path: Path) -> None:
    outline = _write(tmp_path / "small.md", SMALL)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for attempt in range(5):
        path = tmp_path / f"race{attempt}" / "t.db"
        procs = [subprocess.Popen([sys.executable, "-m", "tracker", "--db", str(path), "import", str(outline)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], (attempt, outputs)
        assert _integrity(path) == ("ok", 5)
