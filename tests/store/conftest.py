"""Small builders for store tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bot.models import Pep
from bot.services import directory


@pytest.fixture
def pep(session: Session) -> Pep:
    directory.add_school(session, "Test School")
    child = directory.add_child(session, "Test School", "Alex", 5)
    return directory.add_pep(session, child.id, date(2030, 3, 14))
