from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, PepStatus, Role
from bot.phases import Phase
from bot.services import directory as d


def test_schools(session: Session) -> None:
    school = d.add_school(session, "  Oak Primary ")
    assert school.name == "Oak Primary"
    assert d.find_school(session, "Oak Primary") is school
    assert d.find_school(session, "oak primary") is school
    assert d.find_school(session, "Elm") is None
    with pytest.raises(d.AlreadyExists):
        d.add_school(session, "OAK PRIMARY")
    with pytest.raises(d.DirectoryError):
        d.add_school(session, "   ")


def test_staff(session: Session) -> None:
    d.add_school(session, "Oak")
    staff = d.add_staff(session, "Oak", " Ms.Jones@Example.ORG ", "designated_teacher")
    assert staff.email == "ms.jones@example.org"
    assert staff.role is Role.designated_teacher
    with pytest.raises(d.AlreadyExists, match="already exists"):
        d.add_staff(session, "Oak", "MS.JONES@example.org", Role.dsl)
    with pytest.raises(d.DirectoryError, match="unknown role"):
        d.add_staff(session, "Oak", "b@example.org", "headteacher")
    with pytest.raises(d.NotFound, match="unknown school"):
        d.add_staff(session, "Elm", "c@example.org", Role.dsl)
    for bad in ("no-at-sign", "a@b", "a b@example.org", "@example.org"):
        with pytest.raises(d.DirectoryError, match="not an email"):
            d.add_staff(session, "Oak", bad, Role.dsl)


def test_children(session: Session) -> None:
    d.add_school(session, "Oak")
    child = d.add_child(session, "Oak", " Zoë ", 9)
    assert (child.first_name, child.year_group, child.phase) == ("Zoë", 9, Phase.ks3_4)
    assert d.add_child(session, "Oak", "Ny", -1).phase is Phase.early_years
    with pytest.raises(d.NotFound):
        d.add_child(session, "Elm", "Sam", 5)
    with pytest.raises(d.DirectoryError, match="year group"):
        d.add_child(session, "Oak", "Sam", 14)
    with pytest.raises(d.DirectoryError, match="first name"):
        d.add_child(session, "Oak", " ", 5)
    with pytest.raises(d.DirectoryError, match="longer"):
        d.add_child(session, "Oak", "x" * 51, 5)


def test_peps(session: Session) -> None:
    d.add_school(session, "Oak")
    d.add_school(session, "Elm")
    oak_child = d.add_child(session, "Oak", "Sam", 5)
    elm_child = d.add_child(session, "Elm", "Ali", 12)
    late = d.add_pep(session, oak_child.id, "2030-06-01")
    early = d.add_pep(session, elm_child.id, date(2030, 1, 1))
    assert (late.child_id, early.child_id) == (oak_child.id, elm_child.id)
    assert late.status is PepStatus.not_started
    assert late.meeting_date == date(2030, 6, 1)
    assert late.submitted_at is None

    with pytest.raises(d.NotFound, match="unknown child"):
        d.add_pep(session, 999_999, "2030-01-01")
    for bad in ("2030-02-30", "01/02/2030", "soon", ""):
        with pytest.raises(d.DirectoryError, match="not a date"):
            d.add_pep(session, oak_child.id, bad)

    assert d.get_pep(session, late.id) is late
    assert d.get_pep(session, late.id, school_id=oak_child.school_id) is late
    with pytest.raises(d.NotFound):  # another school's PEP is invisible
        d.get_pep(session, late.id, school_id=elm_child.school_id)
    with pytest.raises(d.NotFound):
        d.get_pep(session, 999_999)

    assert d.list_peps(session) == [early, late]
    assert d.list_peps(session, "Oak") == [late]
    with pytest.raises(d.NotFound):
        d.list_peps(session, "Birch")
    assert d.answer_counts(session, [late.id]) == {late.id: 0}
    assert d.answer_counts(session, []) == {}


def test_directory_audit_has_ids_not_names(session: Session) -> None:
    d.add_school(session, "Oak")
    child = d.add_child(session, "Oak", "Secretname", 5)
    pep = d.add_pep(session, child.id, "2030-01-01", actor="tester")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["school.created", "child.created", "pep.created"]
    assert events[-1].actor == "tester"
    assert events[-1].pep_id == pep.id
    assert all("Secretname" not in str(e.detail) for e in events)
