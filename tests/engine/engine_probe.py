"""Run a probe script in the engine's own Python (Rasa lives only there) and read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"


def run_probe(script: str, *args: str) -> Any:
    """The JSON the probe (a file beside this one) prints last; skips without an engine."""
    if not ENGINE_PYTHON.exists():
        pytest.skip("no engine environment: run 'make setup'")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run(
        [str(ENGINE_PYTHON), str(Path(__file__).with_name(script)), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])
