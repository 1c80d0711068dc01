"""pep_engine.tracker_store hands back a conversation from memory only while the database
still holds exactly that conversation (tests/engine/tracker_store_probe.py, engine Python)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"


def test_memory_never_hides_what_the_database_holds(tmp_path: Path) -> None:
    if not ENGINE_PYTHON.exists():
        pytest.skip("no engine environment: run 'make setup'")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    probe = Path(__file__).with_name("tracker_store_probe.py")
    done = subprocess.run(
        [str(ENGINE_PYTHON), str(probe), str(tmp_path / "tracker.db")],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seen = json.loads(done.stdout.decode().strip().splitlines()[-1])
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
