"""A Year 5 PEP, empty (`pep`) or answered and submitted with a disclosure (`filled_pep`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bot.models import Pep
from tests.factories import child_pep, school
from tests.services.export.sample import FIRST_NAME, fill_pep


@pytest.fixture
def pep(session: Session) -> Pep:
    at = school(session, "Export School")
    return child_pep(session, at, first_name=FIRST_NAME, meeting=date(2030, 3, 14))


@pytest.fixture
def filled_pep(session: Session, pep: Pep) -> Pep:
    return fill_pep(session, pep)
