"""pep_engine.speedups changes how often Rasa does its work, not what it does."""

from __future__ import annotations

from tests.engine.engine_probe import run_probe


def test_rasa_behaves_as_before() -> None:
    found = run_probe("speedups_probe.py")
    # The same answers over one kept connection instead of a new one per request.
    assert found["before"]["requests"] == {"answers": [{"got": 1}, {"got": 2}], "connections": 2}
    assert found["after"]["requests"] == {"answers": [{"got": 1}, {"got": 2}], "connections": 1}
    for key in ("replies", "events"):
        assert found["after"][key] == found["before"][key]
    replies, events = found["after"]["replies"], found["after"]["events"]
    assert replies[:3] == ["valid"] * 3
    assert all(m != "valid" and "Failed to validate" in m for m in replies[3:])
    assert "<class 'rasa.shared.core.events.SlotSet'>" in events
    assert "Unknown event name 'no_such_event'." in events
