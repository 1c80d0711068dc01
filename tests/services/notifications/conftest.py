"""A real SMTP server (aiosmtpd), two schools with their staff, and PEPs to notify about."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine, select

from bot.db import session_scope
from bot.models import AnsweredBy, Pep, Role
from bot.services import directory
from bot.services.answers import record_answer, submit_voice
from bot.settings import Settings
from tests.services.alerts.conftest import plain_smtp_on_a_free_port

# Distinctive, so a leak anywhere is easy to find.
FIRST_NAME = "Philomena"
WORDS = "my tortoise Quillfeather sleeps in the airing cupboard"
BASE_URL = "https://pep.example.org"

OAK, ELM = "Oak Primary", "Elm Academy"
STAFF = {
    OAK: {
        "dt@oak.example": Role.designated_teacher,
        "deputy.dt@oak.example": Role.designated_teacher,
        "dsl@oak.example": Role.dsl,
        "vs@oak.example": Role.virtual_school,
        "admin@oak.example": Role.admin,
    },
    ELM: {"dt@elm.example": Role.designated_teacher, "dsl@elm.example": Role.dsl},
}


@pytest.fixture
def smtp_port(monkeypatch: pytest.MonkeyPatch, app_settings: Settings) -> int:
    """Mail settings for a free port; links in the emails start with BASE_URL."""
    return plain_smtp_on_a_free_port(monkeypatch, app_base_url=BASE_URL + "/")


@pytest.fixture
def schools(committed_db: Engine) -> Engine:
    """Oak (two designated teachers, a DSL, ...) and Elm, committed; emptied afterwards."""
    with session_scope() as session:
        for school, staff in STAFF.items():
            directory.add_school(session, school)
            for email, role in staff.items():
                directory.add_staff(session, school, email, role)
    return committed_db


def make_pep(
    meeting: date,
    *,
    school: str = OAK,
    answer: bool = False,
    submitted_at: datetime | None = None,
    year: int = 5,
) -> int:
    """A committed PEP; optionally answered, and submitted at `submitted_at`."""
    with session_scope() as session:
        child = directory.add_child(session, school, FIRST_NAME, year)
        pep = directory.add_pep(session, child.id, meeting)
        if answer or submitted_at is not None:
            record_answer(session, pep, "going_well", WORDS, AnsweredBy.child, child.phase)
        if submitted_at is not None:
            submit_voice(session, pep, now=submitted_at)
        return pep.id


def pep_row(pep_id: int) -> Pep:
    with session_scope() as session:
        pep = session.scalars(select(Pep).where(Pep.id == pep_id)).one()
        session.expunge(pep)
        return pep
