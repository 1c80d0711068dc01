"""pep_engine.speedups changes how often Rasa does its work, not what it does."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"


def test_rasa_behaves_as_before() -> None:
    if not ENGINE_PYTHON.exists():
        pytest.skip("no engine environment: run 'make setup'")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    probe = Path(__file__).with_name("speedups_probe.py")
    done = subprocess.run(
        [str(ENGINE_PYTHON), str(probe)], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    found = json.loads(done.stdout)
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
