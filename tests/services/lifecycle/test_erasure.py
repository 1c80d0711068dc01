"""erase_child: nothing of the child is left, here or in the engine's tracker store."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.models import (
    Answer,
    AuditEvent,
    Child,
    ConcernMessage,
    Invite,
    Pep,
    SafeguardingConcern,
    StaffUser,
    TelegramChat,
)
from bot.services import ServiceError, directory, review
from bot.services.access import AccessDenied
from bot.services.lifecycle import erase_child
from bot.settings import get_settings

from .conftest import (
    ELM,
    NOW,
    OAK,
    ChildData,
    Tracker,
    add_schools,
    build_child,
    matches_in_database,
)

# Distinctive, so a trace anywhere is easy to find.
NAME, WORDS = "Perpetua", "my hamster Quillfeather loves the trampoline"
DISCLOSURE = "my stepdad Grimsditch locks me in the shed"
OTHER_NAME, OTHER_WORDS = "Bartholomew", "I built a Snorkelwhistle robot in science"
OTHER_DISCLOSURE = "a man called Vexborough follows me home"
TRACES = ("perpetua", "quillfeather", "grimsditch")
# The teacher's review of the erased child's voice (issue 10): only in the app's database.
REVIEW_TRACES = ("zephyrine", "mumblecrust")
OTHER_TRACES = ("bartholomew", "snorkelwhistle", "vexborough")
ADMIN = "cli:admin-on-the-server"


def _children(session: Session, tracker: Tracker) -> tuple[ChildData, ChildData]:
    add_schools(session)
    at = NOW - timedelta(days=3)
    child = build_child(
        session,
        tracker,
        school=OAK,
        first_name=NAME,
        words=WORDS,
        disclosure=DISCLOSURE,
        meeting=date(2030, 2, 1),
        at=at,
    )
    other = build_child(
        session,
        tracker,
        school=OAK,
        first_name=OTHER_NAME,
        words=OTHER_WORDS,
        disclosure=OTHER_DISCLOSURE,
        meeting=date(2030, 2, 1),
        at=at,
    )
    return child, other


def test_erasure_leaves_no_trace_and_spares_the_other_child(
    session: Session, tracker: Tracker
) -> None:
    child, other = _children(session, tracker)
    dt = session.scalars(select(StaffUser).where(StaffUser.email == "dt@oak.example")).one()
    answer = session.scalars(select(Answer).where(Answer.pep_id == child.pep_ids[0])).first()
    assert answer is not None
    review.set_teacher_wording(session, answer, "Zephyrine: wording for the PEP", dt.id)
    review.set_teacher_wording(session, answer, "Zephyrine again, the second wording", dt.id)
    review.add_comment(session, answer.pep, "Ask about Mumblecrust next time", dt.id)
    connection = session.connection()
    for word in (*TRACES, *OTHER_TRACES):  # the search finds what is there
        assert matches_in_database(connection, word), word
        assert tracker.count_matches(word), word
    for word in REVIEW_TRACES:
        assert matches_in_database(connection, word), word
    before_keys = tracker.keys()
    assert {*child.senders, child.prelink_sender} <= before_keys

    counts = erase_child(
        session, child.child_id, actor=ADMIN, concerns_approved_by="dsl@oak.example"
    )

    assert counts == {
        "concern_messages": 1,
        "concerns": 1,
        "answer_wording_edits": 2,
        "pep_comments": 1,
        "answers": 4,
        "invites": 3,
        "telegram_chats": 1,
        "peps": 2,
        "children": 1,
        "conversations": 3,
        "conversation_events": counts["conversation_events"],
    }
    assert counts["conversation_events"] > 10
    session.flush()
    for word in TRACES:
        assert matches_in_database(connection, word) == {}, word
        assert tracker.count_matches(word) == 0, word
    for word in REVIEW_TRACES:
        assert matches_in_database(connection, word) == {}, word
    # Rasa itself no longer finds the conversations; the other child's are all there.
    assert tracker.keys() == before_keys - {*child.senders, child.prelink_sender}
    for word in OTHER_TRACES:
        assert matches_in_database(connection, word), word
        assert tracker.count_matches(word), word
    assert session.get(Child, other.child_id) is not None
    assert session.scalar(select(func.count()).where(Pep.child_id == other.child_id)) == 2
    other_peps = Answer.pep_id.in_(other.pep_ids)
    assert session.scalar(select(func.count()).select_from(Answer).where(other_peps)) == 4
    assert session.scalar(select(func.count()).select_from(Invite)) == 3
    assert session.scalar(select(func.count()).select_from(TelegramChat)) == 1
    assert session.scalar(select(func.count()).select_from(SafeguardingConcern)) == 1
    assert session.scalar(select(func.count()).select_from(ConcernMessage)) == 1

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.erased")).one()
    assert event.actor == ADMIN
    assert event.detail["child_id"] == child.child_id
    dsl = session.scalars(select(StaffUser).where(StaffUser.email == "dsl@oak.example")).one()
    assert event.detail["approved_by_id"] == dsl.id
    assert event.detail["pep_ids"] == child.pep_ids
    assert event.detail["answers"] == 4
    text = json.dumps(event.detail).lower()
    assert not any(word in text for word in (*TRACES, *REVIEW_TRACES, "hamster", "stepdad"))


def test_an_admin_may_erase_a_child_without_concerns(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    child = build_child(
        session,
        tracker,
        school=OAK,
        first_name=NAME,
        words=WORDS,
        disclosure=None,
        meeting=date(2030, 2, 1),
        at=NOW,
    )
    counts = erase_child(session, child.child_id, actor=ADMIN)
    assert counts["children"] == 1 and counts["conversations"] == 2
    assert tracker.count_matches("quillfeather") == 0


def test_a_child_with_concerns_needs_the_dsls_approval(session: Session, tracker: Tracker) -> None:
    child, _ = _children(session, tracker)
    with pytest.raises(AccessDenied, match="--concerns-approved-by DSL_EMAIL"):
        erase_child(session, child.child_id, actor=ADMIN)
    assert session.get(Child, child.child_id) is not None
    assert tracker.count_matches("quillfeather") > 0  # the engine's copy untouched too
    denied = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.erase_denied"))
    assert [(e.actor, e.detail["concerns"]) for e in denied] == [(ADMIN, 1)]


@pytest.mark.parametrize(
    "approver",
    ["dt@oak.example", "admin@oak.example", "dsl@elm.example", "nobody@oak.example"],
)
def test_only_the_schools_dsl_can_approve(
    session: Session, tracker: Tracker, approver: str
) -> None:
    child, _ = _children(session, tracker)
    with pytest.raises(AccessDenied, match="Designated Safeguarding Lead of the child's school"):
        erase_child(session, child.child_id, actor=ADMIN, concerns_approved_by=approver)
    assert session.get(Child, child.child_id) is not None
    assert tracker.count_matches("quillfeather") > 0
    denied = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.erase_denied"))
    assert [e.detail["reason"] for e in denied] == ["approver_not_the_schools_dsl"]
    assert approver not in str([e.detail for e in denied])


def test_a_disabled_dsl_cannot_approve(session: Session, tracker: Tracker) -> None:
    child, _ = _children(session, tracker)
    dsl = session.scalars(select(StaffUser).where(StaffUser.email == "dsl@oak.example")).one()
    dsl.disabled_at = NOW
    with pytest.raises(AccessDenied, match="Designated Safeguarding Lead"):
        erase_child(session, child.child_id, actor=ADMIN, concerns_approved_by="dsl@oak.example")


def test_unknown_child(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    with pytest.raises(ServiceError, match="unknown child id 999"):
        erase_child(session, 999, actor=ADMIN)


def test_no_tracker_store_yet_means_no_conversations(
    session: Session, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_schools(session)
    child = directory.add_child(session, OAK, NAME, 5)
    # Neither the database nor (on PostgreSQL) its table exists until the engine writes.
    assert erase_child(session, child.id, actor=ADMIN)["conversations"] == 0
    monkeypatch.setenv("TRACKER_DATABASE_URL", tracker.url + "_never_created")
    get_settings.cache_clear()
    child = directory.add_child(session, OAK, NAME, 5)
    assert erase_child(session, child.id, actor=ADMIN)["children"] == 1


def test_an_unreachable_tracker_store_erases_nothing(
    session: Session, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    child, _ = _children(session, tracker)
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:9/none")
    get_settings.cache_clear()
    with pytest.raises(OperationalError):
        erase_child(session, child.child_id, actor=ADMIN, concerns_approved_by="dsl@oak.example")
    assert session.get(Child, child.child_id) is not None


def test_another_schools_dsl_cannot_approve_erasing_a_child(
    session: Session, tracker: Tracker
) -> None:
    add_schools(session)
    elm_child = build_child(
        session,
        tracker,
        school=ELM,
        first_name=OTHER_NAME,
        words=OTHER_WORDS,
        disclosure=OTHER_DISCLOSURE,
        meeting=date(2030, 2, 1),
        at=NOW,
    )
    with pytest.raises(AccessDenied, match="Designated Safeguarding Lead"):
        erase_child(
            session, elm_child.child_id, actor=ADMIN, concerns_approved_by="dsl@oak.example"
        )
    assert tracker.count_matches("snorkelwhistle") > 0
