"""The sync runner: every step runs, failures are recorded, not raised."""

from __future__ import annotations

from tracker.errors import InputError
from tracker.sync import run_steps


def test_a_failing_step_does_not_stop_the_next() -> None:
    calls: list[str] = []

    def ok(name: str):  # type: ignore[no-untyped-def]
        def step() -> dict[str, int]:
            calls.append(name)
            return {"n": len(calls)}
        return step

    def broken() -> dict[str, int]:
        calls.append("crawl")
        raise OSError("network is unreachable")

    def bad_input() -> dict[str, int]:
        raise InputError("bad topics file")

    summary = run_steps([("import", ok("import")), ("crawl", broken), ("papers", bad_input),
                         ("progress", ok("progress"))])
    assert calls == ["import", "crawl", "progress"]
    assert summary.steps == {"import": {"n": 1}, "crawl": None, "papers": None, "progress": {"n": 3}}
    assert summary.failed == {"crawl": "OSError: network is unreachable", "papers": "bad topics file"}
    assert not summary.completed
    assert run_steps([("import", ok("again"))]).completed
