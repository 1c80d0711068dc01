"""Actions may record a disclosure, which schedules an email: make that quick and quiet."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_alert_attempt_to_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) refuses at once; no retries, so no email thread outlives the test.
    monkeypatch.setenv("SMTP_PORT", "9")
    monkeypatch.setenv("ALERT_RETRY_DELAYS", "[]")
