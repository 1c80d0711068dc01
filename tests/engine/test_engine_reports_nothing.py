"""The engine sends nothing to Rasa's analytics or crash reporting (Sentry)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENGINE_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "engine" / "bin" / "python"

PROBE = """
import rasa.telemetry as t
t.initialize_error_reporting()
import sentry_sdk
print(t.sentry_write_key(), t.telemetry_write_key(), sentry_sdk.Hub.current.client is None)
"""


def test_rasa_has_no_write_keys_so_no_sentry_client_starts() -> None:
    if not ENGINE_PYTHON.exists():
        pytest.fail("the engine environment is missing: run 'make setup'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RASA_")}
    result = subprocess.run(
        [str(ENGINE_PYTHON), "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["None", "None", "True"]
