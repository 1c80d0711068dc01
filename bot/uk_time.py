"""UK time for people: alerts, concern pages and retention dates are read in England."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def uk_time(moment: datetime) -> str:
    """E.g. "Wednesday 1 July 2026, 13:30 (BST, UK time)"."""
    local = moment.astimezone(UK)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({local.tzname()}, UK time)"
