"""Small builders for store tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bot.models import Pep
from tests.factories import child_pep, school


@pytest.fixture
def pep(session: Session) -> Pep:
    return child_pep(session, school(session, "Test School"), meeting=date(2030, 3, 14))
