"""pep_engine.action_calls sends the action server what Rasa sends, but only the newest
events of a long conversation (tests/engine/action_calls_probe.py, engine Python)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"


def test_only_the_newest_events_go_and_everything_else_is_as_rasa_sends_it() -> None:
    if not ENGINE_PYTHON.exists():
        pytest.skip("no engine environment: run 'make setup'")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    probe = Path(__file__).with_name("action_calls_probe.py")
    done = subprocess.run(
        [str(ENGINE_PYTHON), str(probe)], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    found = json.loads(done.stdout.decode().strip().splitlines()[-1])
    before, after, recent = found["before"], found["after"], found["recent"]
    assert len(before["tracker"]["events"]) == 180  # the whole conversation
    assert after["tracker"]["events"] == before["tracker"]["events"][-recent:]
    for part in (before, after):
        del part["tracker"]["events"]
    assert after == before
    assert after["tracker"]["slots"]["proud"] == "answer 59"
    assert after["tracker"]["latest_message"]["text"] == "answer 59"
