"""pep_engine.tracker_store hands back a conversation from memory only while the database
still holds exactly that conversation (tests/engine/tracker_store_probe.py, engine Python)."""

from __future__ import annotations

from pathlib import Path

from tests.engine.engine_probe import run_probe


def test_memory_never_hides_what_the_database_holds(tmp_path: Path) -> None:
    seen = run_probe("tracker_store_probe.py", str(tmp_path / "tracker.db"))
    assert seen == {
        "kept_in_memory": True,
        "events_after_save": 2,
        "after_other_engine_same_object": False,
        "after_other_engine_slot": "my drawing",
        "after_failed_turn_same_object": False,
        "after_failed_turn_slot": "my drawing",
        "kept": ["child-3"],
        "unknown": None,
        "journal": "wal",
    }
