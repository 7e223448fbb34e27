"""The sync runner: every step runs, failures are recorded, not raised."""

from __future__ import annotations

from tracker.errors import InputError
from tracker.sync import StepDone, run_steps


def test_a_failing_step_does_not_stop_the_next() -> None:
    calls: list[str] = []

    def ok(name: str):  # type: ignore[no-untyped-def]
        def step() -> StepDone:
            calls.append(name)
            return StepDone({"n": len(calls)}, f"{name} done")
        return step

    def broken() -> StepDone:
        calls.append("crawl")
        raise OSError("network is unreachable")

    def bad_input() -> StepDone:
        raise InputError("bad topics file")

    summary = run_steps([("import", ok("import")), ("crawl", broken), ("papers", bad_input),
                         ("progress", ok("progress"))])
    assert calls == ["import", "crawl", "progress"]
    assert summary.steps == {"import": {"n": 1}, "crawl": None, "papers": None, "progress": {"n": 3}}
    assert summary.failed == {"crawl": "OSError: network is unreachable", "papers": "bad topics file"}
    assert summary.lines == {"import": "import done", "progress": "progress done"}
    assert not summary.completed
    assert run_steps([("import", ok("again"))]).completed
