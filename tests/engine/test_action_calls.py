"""pep_engine.action_calls sends the action server what Rasa sends, but only the newest
events of a long conversation (tests/engine/action_calls_probe.py, engine Python)."""

from __future__ import annotations

from tests.engine.engine_probe import run_probe


def test_only_the_newest_events_go_and_everything_else_is_as_rasa_sends_it() -> None:
    found = run_probe("action_calls_probe.py")
    before, after, recent = found["before"], found["after"], found["recent"]
    assert len(before["tracker"]["events"]) == 180  # the whole conversation
    assert after["tracker"]["events"] == before["tracker"]["events"][-recent:]
    for part in (before, after):
        del part["tracker"]["events"]
    assert after == before
    assert after["tracker"]["slots"]["proud"] == "answer 59"
    assert after["tracker"]["latest_message"]["text"] == "answer 59"
