"""subject_access: everything held about one child, concerns only with the DSL's approval."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent
from bot.services import ServiceError
from bot.services.access import AccessDenied
from bot.services.lifecycle import subject_access
from bot.settings import get_settings
from tests.conftest import TEST_SECRET_KEY

from .conftest import ELM, NOW, OAK, ChildData, Tracker, add_schools, build_child

NAME, WORDS = "Perpetua", "my hamster Quillfeather loves the trampoline"
DISCLOSURE = "my stepdad Grimsditch locks me in the shed"
OTHER_NAME, OTHER_WORDS = "Bartholomew", "I built a Snorkelwhistle robot in science"
ADMIN = "cli:admin-on-the-server"


def _child(session: Session, tracker: Tracker) -> ChildData:
    add_schools(session)
    child = build_child(
        session,
        tracker,
        school=OAK,
        first_name=NAME,
        words=WORDS,
        disclosure=DISCLOSURE,
        meeting=date(2030, 2, 1),
        at=NOW - timedelta(days=2),
    )
    build_child(
        session,
        tracker,
        school=OAK,
        first_name=OTHER_NAME,
        words=OTHER_WORDS,
        disclosure=None,
        meeting=date(2030, 2, 1),
        at=NOW - timedelta(days=2),
    )
    return child


def _texts(document: dict[str, Any]) -> list[str]:
    return [
        m["text"]
        for conversation in document["conversations"]
        for m in conversation.get("messages", [])
    ]


def test_everything_but_the_concerns(session: Session, tracker: Tracker) -> None:
    child = _child(session, tracker)
    document = subject_access(session, child.child_id, actor=ADMIN)
    dumped = json.dumps(document)

    assert document["child"]["first_name"] == NAME
    assert document["child"]["school"] == OAK
    assert document["requested_by"] == ADMIN
    assert [p["id"] for p in document["peps"]] == child.pep_ids
    answers = document["peps"][0]["answers"]
    assert [(a["question_key"], a["text"], a["skipped"], a["answered_by"]) for a in answers] == [
        ("going_well", WORDS, False, "child"),
        ("hard", None, True, "with_carer"),
    ]
    assert answers[0]["question"] == "What's been going well"
    assert answers[0]["first_answered_at"]
    invites = [i for p in document["peps"] for i in p["invites"]]
    assert [i["state"] for i in invites] == ["used", "used", "used"]
    assert all(set(i) >= {"created_at", "expires_at", "used_at"} for i in invites)
    assert document["peps"][0]["telegram_links"][0]["linked_at"]
    # No hashes, no conversation ids, nothing of the other child.
    for secret in ("hash", "bound_to", "sender", "sealed", *child.senders):
        assert secret not in dumped
    assert OTHER_WORDS not in dumped and OTHER_NAME not in dumped

    # The two linked conversations, in the child's and the bot's words, with times.
    texts = _texts(document)
    assert texts.count(WORDS) == 2
    assert f"Hi {NAME}! How do you feel about school now?" in texts
    first = document["conversations"][0]
    assert first["messages"][0] == {
        "at": first["first_message_at"],
        "from": "child",
        "text": "hello",
    }
    # The conversation that holds the disclosure is withheld with the concern.
    assert DISCLOSURE not in dumped and "Grimsditch" not in dumped
    withheld = [c for c in document["conversations"] if "withheld" in c]
    assert len(withheld) == 1 and withheld[0]["message_count"] == 4
    assert document["safeguarding_concerns"]["released"] is False
    assert document["safeguarding_concerns"]["count"] == 1
    assert "Designated Safeguarding Lead" in document["safeguarding_concerns"]["note"]
    actions = {e["action"] for e in document["audit_events"]}
    assert {"pep.created", "invite.issued", "invite.redeemed", "answer.saved"} <= actions
    assert not any(a.startswith("concern.") for a in actions)


def test_concerns_released_when_the_schools_dsl_approves(
    session: Session, tracker: Tracker
) -> None:
    child = _child(session, tracker)
    document = subject_access(
        session,
        child.child_id,
        actor=ADMIN,
        include_concerns_approved_by="DSL@oak.example",
    )
    concerns = document["safeguarding_concerns"]
    assert concerns["released"] is True and concerns["approved_by"] == "dsl@oak.example"
    assert [m["words"] for c in concerns["concerns"] for m in c["messages"]] == [DISCLOSURE]
    assert DISCLOSURE in _texts(document)
    assert not any("withheld" in c for c in document["conversations"])
    assert "concern.recorded" in {e["action"] for e in document["audit_events"]}


@pytest.mark.parametrize("approver", ["dt@oak.example", "admin@oak.example", "dsl@elm.example"])
def test_only_the_schools_dsl_can_approve(
    session: Session, tracker: Tracker, approver: str
) -> None:
    child = _child(session, tracker)
    with pytest.raises(AccessDenied, match="Designated Safeguarding Lead"):
        subject_access(
            session,
            child.child_id,
            actor=ADMIN,
            include_concerns_approved_by=approver,
        )


def test_an_unknown_child(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    with pytest.raises(ServiceError, match="unknown child id 999"):
        subject_access(session, 999, actor=ADMIN)


def test_a_refused_approval_is_audited_without_the_email(
    session: Session, tracker: Tracker
) -> None:
    child = _child(session, tracker)
    with pytest.raises(AccessDenied):
        subject_access(
            session,
            child.child_id,
            actor=ADMIN,
            include_concerns_approved_by="dsl@elm.example",
        )
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "child.access_denied")
    ).one()
    assert (event.actor, event.detail["child_id"]) == (ADMIN, child.child_id)
    assert "elm" not in json.dumps(event.detail)


def test_audited_with_counts_and_no_words(session: Session, tracker: Tracker) -> None:
    child = _child(session, tracker)
    subject_access(session, child.child_id, actor=ADMIN)
    subject_access(
        session,
        child.child_id,
        actor=ADMIN,
        include_concerns_approved_by="dsl@oak.example",
    )
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "child.subject_access")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.detail["concerns_released"] for e in events] == [False, True]
    assert {e.actor for e in events} == {ADMIN}
    assert events[0].detail["answers"] == 4
    assert events[0].detail["conversations"] == 3
    assert events[0].detail["conversations_withheld"] == 1
    assert events[1].detail["approved_by_id"] is not None
    every_event = session.scalars(select(AuditEvent)).all()
    text = json.dumps([[e.actor, e.action, e.detail] for e in every_event]).lower()
    for word in ("perpetua", "quillfeather", "grimsditch", "hamster", "bartholomew"):
        assert word not in text


def test_a_conversation_linked_before_a_key_rotation_is_found(
    session: Session, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = _child(session, tracker)
    monkeypatch.setenv("SECRET_KEY", "a-new-key-after-rotation-0123456789abcdef")
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", json.dumps([TEST_SECRET_KEY]))
    get_settings.cache_clear()
    document = subject_access(session, child.child_id, actor=ADMIN)
    assert _texts(document).count(WORDS) == 2
    assert document["safeguarding_concerns"]["count"] == 1


def test_a_child_with_no_conversations(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    from bot.services import directory

    child = directory.add_child(session, ELM, "Ottoline", 3)
    document = subject_access(session, child.id, actor=ADMIN)
    assert document["peps"] == [] and document["conversations"] == []
    assert document["safeguarding_concerns"]["count"] == 0


def test_what_staff_wrote_about_the_child_is_included(session: Session, tracker: Tracker) -> None:
    from bot.models import Answer, Pep, StaffUser
    from bot.services import review

    child = _child(session, tracker)
    pep = session.get(Pep, child.pep_ids[0])
    assert pep is not None
    staff = session.scalars(select(StaffUser).where(StaffUser.email == "dt@oak.example")).one()
    answer = session.scalars(select(Answer).where(Answer.pep_id == pep.id)).first()
    assert answer is not None
    review.set_teacher_wording(session, answer, "Enjoys looking after a pet", staff.id)
    review.add_comment(session, pep, "Ask about the trampoline club", staff.id)
    document = subject_access(session, child.child_id, actor=ADMIN)
    pep_doc = document["peps"][0]
    assert "Enjoys looking after a pet" in [a["teacher_wording"] for a in pep_doc["answers"]]
    assert [c["text"] for c in pep_doc["staff_comments"]] == ["Ask about the trampoline club"]
