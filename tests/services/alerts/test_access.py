"""Who may see a concern, and its words; every read audited without the words."""

from __future__ import annotations

import contextlib
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AlertStatus, AuditEvent, Role
from bot.services.access import (
    AccessDenied,
    ConcernNotFound,
    Viewer,
    concern_words,
    viewer_for_email,
    visible_concerns,
)
from bot.services.concerns import ConcernRow, concern_rows

from .conftest import WORDS, add_pep, add_school, record


@pytest.fixture
def world(session: Session) -> dict[str, int]:
    add_school(
        session,
        "Oak Primary",
        ("dsl@oak.example", Role.dsl),
        ("teacher@oak.example", Role.designated_teacher),
        ("vs@oak.example", Role.virtual_school),
        ("admin@pepvoice.example", Role.admin),
    )
    add_school(session, "Elm Academy", ("dsl@elm.example", Role.dsl))
    oak = record(session, add_pep(session, "Oak Primary", "Alex"), "oak")
    elm = record(session, add_pep(session, "Elm Academy", "Bea"), "elm")
    unlinked = record(session, None, "unlinked", category="classifier")
    return {"oak": oak.id, "elm": elm.id, "unlinked": unlinked.id}


def viewer(session: Session, email: str) -> Viewer:
    return viewer_for_email(session, email)


def listed(session: Session, someone: Viewer) -> list[ConcernRow]:
    """The concern list as the review app reads it (bot.review.concern_pages)."""
    return concern_rows(session, visible_concerns(someone))


def audits(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_viewer_for_email(session: Session, world: dict[str, int]) -> None:
    dsl = viewer(session, "  DSL@oak.example ")
    assert (dsl.email, dsl.role) == ("dsl@oak.example", Role.dsl)
    with pytest.raises(AccessDenied, match="no staff user"):
        viewer_for_email(session, "stranger@example.org")


def test_dsl_reads_own_school_words(session: Session, world: dict[str, int]) -> None:
    dsl = viewer(session, "dsl@oak.example")
    assert concern_words(session, dsl, world["oak"]) == WORDS
    [event] = audits(session, "concern.viewed")
    assert event.actor == f"staff:{dsl.staff_user_id}"
    assert event.detail == {"viewer_id": dsl.staff_user_id, "concern_id": world["oak"]}
    assert event.school_id == dsl.school_id


def test_admin_reads_any_concern(session: Session, world: dict[str, int]) -> None:
    admin = viewer(session, "admin@pepvoice.example")
    for concern_id in world.values():
        assert concern_words(session, admin, concern_id) == WORDS
    assert len(audits(session, "concern.viewed")) == 3


@pytest.mark.parametrize("email", ["teacher@oak.example", "vs@oak.example"])
def test_other_roles_never_read_words(session: Session, world: dict[str, int], email: str) -> None:
    someone = viewer(session, email)
    with pytest.raises(AccessDenied, match="Designated Safeguarding Lead") as caught:
        concern_words(session, someone, world["oak"])
    assert not isinstance(caught.value, ConcernNotFound)
    [event] = audits(session, "concern.view_denied")
    assert event.detail["viewer_id"] == someone.staff_user_id
    assert audits(session, "concern.viewed") == []


def test_other_schools_dsl_sees_not_found(session: Session, world: dict[str, int]) -> None:
    elm_dsl = viewer(session, "dsl@elm.example")
    with pytest.raises(ConcernNotFound) as other_school:
        concern_words(session, elm_dsl, world["oak"])
    with pytest.raises(ConcernNotFound) as unknown:
        concern_words(session, elm_dsl, 999_999)
    # Indistinguishable: the DSL cannot learn that another school has a concern.
    assert str(other_school.value).replace(str(world["oak"]), "N") == str(unknown.value).replace(
        "999999", "N"
    )
    with pytest.raises(ConcernNotFound):
        concern_words(session, elm_dsl, world["unlinked"])
    assert len(audits(session, "concern.view_denied")) == 3


def test_lists_are_scoped_and_have_no_words(session: Session, world: dict[str, int]) -> None:
    def ids(email: str) -> set[int]:
        return {c.id for c in listed(session, viewer(session, email))}

    assert ids("dsl@oak.example") == {world["oak"]}
    assert ids("teacher@oak.example") == {world["oak"]}
    assert ids("vs@oak.example") == {world["oak"]}
    assert ids("dsl@elm.example") == {world["elm"]}
    assert ids("admin@pepvoice.example") == set(world.values())

    [summary] = listed(session, viewer(session, "teacher@oak.example"))
    assert summary.child_first_name == "Alex"
    assert summary.category == "physical_abuse"
    assert summary.alert_status == AlertStatus.pending
    assert "Zebedee" not in repr(summary)


def test_no_audit_event_holds_the_words(session: Session, world: dict[str, int]) -> None:
    for email in ("dsl@oak.example", "teacher@oak.example", "admin@pepvoice.example"):
        someone = viewer(session, email)
        listed(session, someone)
        with contextlib.suppress(AccessDenied):
            concern_words(session, someone, world["oak"])
    dumped = json.dumps([e.detail for e in session.scalars(select(AuditEvent))])
    assert "Zebedee" not in dumped
