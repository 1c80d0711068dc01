"""Schools, staff, children and PEPs for tests: one way to make them.

Everything goes through bot.services.directory, as the app does, so a test's set-up obeys
the same rules (names, year groups, meeting dates) as real data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from bot.models import Pep, Role, School
from bot.services import directory

MEETING = date(2030, 1, 15)


def school(
    session: Session, name: str | None = None, *, staff: Iterable[tuple[str, Role | str]] = ()
) -> School:
    """A school (a unique name unless one is given), with staff as (email, role) pairs."""
    made = directory.add_school(session, name or f"School {uuid.uuid4().hex[:8]}")
    for email, role in staff:
        directory.add_staff(session, made.name, email, role)
    return made


def child_pep(
    session: Session,
    at: School | str | None = None,
    *,
    first_name: str = "Alex",
    year_group: int = 5,
    meeting: date | str = MEETING,
) -> Pep:
    """A new child with one PEP, at `at` (a school or its name; a new school if None)."""
    school_name = at.name if isinstance(at, School) else at or school(session).name
    child = directory.add_child(session, school_name, first_name, year_group)
    return directory.add_pep(session, child.id, meeting)
