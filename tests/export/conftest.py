"""A Year 5 PEP, empty (`pep`) or answered and submitted with a disclosure (`filled_pep`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bot.models import Pep
from bot.services import directory
from tests.export.sample import FIRST_NAME, fill_pep


@pytest.fixture
def pep(session: Session) -> Pep:
    directory.add_school(session, "Export School")
    child = directory.add_child(session, "Export School", FIRST_NAME, 5)
    return directory.add_pep(session, child.id, date(2030, 3, 14))


@pytest.fixture
def filled_pep(session: Session, pep: Pep) -> Pep:
    return fill_pep(session, pep)
