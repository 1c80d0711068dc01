"""Schools, staff, children and PEPs: creation and lookup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from bot.models import Answer, Child, Pep, Role, School, StaffUser
from bot.phases import MAX_YEAR_GROUP, MIN_YEAR_GROUP
from bot.services import ServiceError, record_event

MAX_FIRST_NAME_CHARS = 50


class DirectoryError(ServiceError):
    """Bad input or a missing record when managing schools, staff, children, PEPs."""


class NotFound(DirectoryError):
    pass


class AlreadyExists(DirectoryError):
    pass


def find_school(session: Session, name: str) -> School | None:
    """Exact name, else the single case-insensitive match."""
    name = name.strip()
    school = session.scalar(select(School).where(School.name == name))
    if school is not None:
        return school
    matches = session.scalars(select(School).where(func.lower(School.name) == name.lower())).all()
    return matches[0] if len(matches) == 1 else None


def get_school(session: Session, school_id: int) -> School | None:
    return session.get(School, school_id)


def school_name(session: Session, school_id: int) -> str | None:
    return session.scalar(select(School.name).where(School.id == school_id))


def school_list(session: Session) -> list[tuple[int, str]]:
    """Every school as (id, name), by name: for an admin's or the Virtual School's choice."""
    rows = session.execute(select(School.id, School.name).order_by(School.name, School.id))
    return [(row.id, row.name) for row in rows]


def _require_school(session: Session, name: str) -> School:
    school = find_school(session, name)
    if school is None:
        raise NotFound(f"unknown school {name.strip()!r}")
    return school


def add_school(session: Session, name: str, *, actor: str = "system") -> School:
    name = name.strip()
    if not name:
        raise DirectoryError("school name must not be empty")
    if len(name) > 200:
        raise DirectoryError("school name is longer than 200 characters")
    if find_school(session, name) is not None:
        raise AlreadyExists(f"school {name!r} already exists")
    school = School(name=name)
    session.add(school)
    session.flush()
    record_event(session, actor, "school.created", school_id=school.id)
    return school


def add_staff(
    session: Session, school_name: str, email: str, role: Role | str, *, actor: str = "system"
) -> StaffUser:
    school = _require_school(session, school_name)
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 320:
        raise DirectoryError(f"not an email address: {email!r}")
    try:
        role = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise DirectoryError(f"unknown role {role!r} (choose from: {choices})") from None
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise AlreadyExists(f"a staff user with email {email!r} already exists")
    staff = StaffUser(school=school, email=email, role=role)
    session.add(staff)
    session.flush()
    record_event(
        session, actor, "staff.created", school_id=school.id, staff_id=staff.id, role=role.value
    )
    return staff


def add_child(
    session: Session, school_name: str, first_name: str, year_group: int, *, actor: str = "system"
) -> Child:
    school = _require_school(session, school_name)
    first_name = first_name.strip()
    if not first_name:
        raise DirectoryError("first name must not be empty")
    if len(first_name) > MAX_FIRST_NAME_CHARS:
        raise DirectoryError(f"first name is longer than {MAX_FIRST_NAME_CHARS} characters")
    if not MIN_YEAR_GROUP <= year_group <= MAX_YEAR_GROUP:
        raise DirectoryError(f"year group must be N, R or 1-13, not {year_group}")
    child = Child(school=school, first_name=first_name, year_group=year_group)
    session.add(child)
    session.flush()
    # The name stays out of the audit log: ids are enough to trace it.
    record_event(session, actor, "child.created", school_id=school.id, child_id=child.id)
    return child


def _parse_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DirectoryError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def add_pep(
    session: Session, child_id: int, meeting_date: date | str, *, actor: str = "system"
) -> Pep:
    meeting = _parse_date(meeting_date)
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound(f"unknown child id {child_id}")
    pep = Pep(child=child, meeting_date=meeting)
    session.add(pep)
    session.flush()
    record_event(
        session,
        actor,
        "pep.created",
        school_id=child.school_id,
        pep_id=pep.id,
        child_id=child.id,
        meeting_date=meeting.isoformat(),
    )
    return pep


def get_pep(session: Session, pep_id: int, *, school_id: int | None = None) -> Pep:
    """The PEP, or NotFound; with `school_id`, PEPs of other schools are invisible."""
    query = select(Pep).join(Pep.child).options(joinedload(Pep.child)).where(Pep.id == pep_id)
    if school_id is not None:
        query = query.where(Child.school_id == school_id)
    pep = session.scalar(query)
    if pep is None:
        raise NotFound(f"unknown PEP id {pep_id}")
    return pep


def child_named(session: Session, school_id: int, first_name: str) -> Child | None:
    """The school's first child with exactly that first name, if any."""
    return session.scalar(
        select(Child)
        .where(Child.school_id == school_id, Child.first_name == first_name)
        .order_by(Child.id)
        .limit(1)
    )


def newest_pep_of_child_named(session: Session, school_id: int, first_name: str) -> Pep | None:
    """The newest PEP of any child at the school with exactly that first name."""
    return session.scalar(
        select(Pep)
        .join(Pep.child)
        .where(Child.school_id == school_id, Child.first_name == first_name)
        .order_by(Pep.id.desc())
        .limit(1)
    )


def list_peps(session: Session, school_name: str | None = None) -> list[Pep]:
    """PEPs by meeting date, with their child loaded; optionally for one school."""
    query = select(Pep).join(Pep.child).options(joinedload(Pep.child))
    if school_name is not None:
        query = query.where(Child.school_id == _require_school(session, school_name).id)
    return list(session.scalars(query.order_by(Pep.meeting_date, Pep.id)))


def answer_counts(session: Session, pep_ids: Iterable[int]) -> dict[int, int]:
    """Number of answer rows (skipped ones included) per PEP, without loading any text."""
    ids = list(pep_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Answer.pep_id, func.count()).where(Answer.pep_id.in_(ids)).group_by(Answer.pep_id)
    )
    counts = {pep_id: 0 for pep_id in ids}
    counts.update({pep_id: count for pep_id, count in rows})
    return counts
