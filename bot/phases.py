"""School phases (key stages) derived from an English year group."""

from __future__ import annotations

import re
from enum import StrEnum

MIN_YEAR_GROUP = -1  # Nursery
MAX_YEAR_GROUP = 13


class Phase(StrEnum):
    early_years = "early_years"
    ks1_2 = "ks1_2"
    ks3_4 = "ks3_4"
    post_16 = "post_16"


def phase_for_year(year_group: int) -> Phase:
    if not MIN_YEAR_GROUP <= year_group <= MAX_YEAR_GROUP:
        raise ValueError(f"year group must be N, R or 1-13, not {year_group}")
    if year_group <= 0:
        return Phase.early_years
    if year_group <= 6:
        return Phase.ks1_2
    if year_group <= 11:
        return Phase.ks3_4
    return Phase.post_16


_YEAR_RE = re.compile(r"^(?:y(?:ear)?\s*)?(\d{1,2})$")


def parse_year_group(text: str) -> int:
    """Parse "N", "R", "5", "Y5" or "Year 5" (any case) into -1..13."""
    cleaned = text.strip().lower()
    if cleaned in {"n", "nursery"}:
        return -1
    if cleaned in {"r", "reception"}:
        return 0
    match = _YEAR_RE.match(cleaned)
    if match is None:
        raise ValueError(f"not a year group: {text!r} (use N, R or 1-13, e.g. Y5)")
    year = int(match.group(1))
    phase_for_year(year)  # range check with the same message everywhere
    return year


def year_group_label(year_group: int) -> str:
    """Short display form: N, R, Y1..Y13."""
    return {-1: "N", 0: "R"}.get(year_group, f"Y{year_group}")
