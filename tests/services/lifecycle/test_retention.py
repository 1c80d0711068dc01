"""apply_retention at its boundaries: what goes, and what stays."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import (
    Answer,
    AnsweredBy,
    AuditEvent,
    Child,
    ConcernMessage,
    Invite,
    Pep,
    SafeguardingConcern,
    StaffSession,
    StaffUser,
    TelegramChat,
)
from bot.review.sessions import ABSOLUTE, IDLE, create_session
from bot.security import keyed_hash
from bot.services import directory
from bot.services.answers import record_answer, submit_voice
from bot.services.lifecycle import apply_retention
from bot.services.safeguarding import dedupe_key_for, report_disclosure

from .conftest import NOW, OAK, Tracker, add_schools, link, matches_in_database

# 180 days before NOW (2030-01-10) is 2029-07-14: a meeting that day is exactly 180 days ago.
EXPIRED_MEETING = date(2029, 7, 13)
KEPT_MEETING = date(2029, 7, 14)
SECOND = timedelta(seconds=1)


def _pep(
    session: Session,
    tracker: Tracker,
    name: str,
    words: str,
    meeting: date,
    at: datetime,
    *,
    child: Child | None = None,
) -> tuple[Pep, str]:
    """A PEP with an answer and its linked conversation holding `words`."""
    child = child or directory.add_child(session, OAK, name, 6)
    pep = directory.add_pep(session, child.id, meeting)
    sender = f"web-{uuid.uuid4().hex}"
    link(session, pep, sender, at)
    record_answer(session, pep, "going_well", words, AnsweredBy.child, child.phase)
    tracker.say(sender, (at, words, f"Thanks {name}."))
    return pep, sender


def _invite(pep: Pep, *, expires_at: datetime, revoked: bool = False, used: bool = False) -> Invite:
    return Invite(
        pep=pep,
        code_hash=keyed_hash(f"invite:{uuid.uuid4()}"),
        expires_at=expires_at,
        revoked_at=NOW - timedelta(days=1) if revoked else None,
        bound_to=keyed_hash(f"conversation:{uuid.uuid4()}") if used else None,
        bound_at=NOW - timedelta(days=2) if used else None,
        created_at=NOW - timedelta(days=3),
    )


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_retention_boundaries(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    long_ago = NOW - timedelta(days=200)
    # A: one PEP whose meeting was 181 days ago, with a concern and a Telegram link: all goes.
    a_pep, a_sender = _pep(
        session, tracker, "Perpetua", "Quillfeather is my hamster", EXPIRED_MEETING, long_ago
    )
    a_child_id = a_pep.child_id
    report_disclosure(
        session,
        a_pep,
        words="Grimsditch shouts at me",
        category="emotional_abuse",
        source="engine",
        dedupe_key=dedupe_key_for(a_sender, "m9"),
        conversation_hash=keyed_hash("conversation:" + a_sender),
        now=long_ago,
    )
    session.add(TelegramChat(chat_hash="a" * 64, sealed_chat_id="k:x", pep=a_pep))
    # B: meeting exactly 180 days ago: kept, and its conversation (30 days quiet) too.
    b_pep, b_sender = _pep(
        session,
        tracker,
        "Bartholomew",
        "Snorkelwhistle club",
        KEPT_MEETING,
        NOW - timedelta(days=30),
    )
    # C: an expired PEP and a current one: the old one goes, the child stays.
    c_old, c_old_sender = _pep(
        session, tracker, "Clementine", "Marmaduke old words", EXPIRED_MEETING, long_ago
    )
    c_child = c_old.child
    c_new, c_new_sender = _pep(
        session,
        tracker,
        "Clementine",
        "Zanzibar new words",
        date(2030, 3, 1),
        NOW - timedelta(days=1),
        child=c_child,
    )
    # D and E submitted just over and just under an hour ago.
    d_pep, d_sender = _pep(
        session, tracker, "Dorothea", "Wobblegong words", date(2030, 2, 1), NOW - timedelta(hours=3)
    )
    submit_voice(session, d_pep, now=NOW - timedelta(minutes=60) - SECOND)
    e_pep, e_sender = _pep(
        session,
        tracker,
        "Eglantine",
        "Fizzlebrook words",
        date(2030, 2, 1),
        NOW - timedelta(hours=3),
    )
    submit_voice(session, e_pep, now=NOW - timedelta(minutes=60) + SECOND)
    # Invites on B's PEP around their expiry.
    gone_invites = [
        _invite(b_pep, expires_at=NOW),  # expired, never used
        _invite(b_pep, expires_at=NOW + timedelta(days=5), revoked=True),  # revoked, never used
    ]
    kept_invites = [
        _invite(b_pep, expires_at=NOW + SECOND),  # still open
        _invite(b_pep, expires_at=NOW - timedelta(days=1), used=True),  # used, since expired
        _invite(b_pep, expires_at=NOW + timedelta(days=5), used=True, revoked=True),
    ]
    session.add_all([*gone_invites, *kept_invites])
    # Conversations that never typed a code, quiet for just over and just under 7 days.
    tracker.say("web-abandoned", (NOW - timedelta(days=7) - SECOND, "Tiddlywink hi", "Hello!"))
    tracker.say("web-recent", (NOW - timedelta(days=7) + SECOND, "Kumquat hi", "Hello!"))
    session.flush()
    invites_before = _count(session, Invite)
    gone_ids, kept_ids = {i.id for i in gone_invites}, {i.id for i in kept_invites}
    a_pep_id, c_old_id, c_child_id = a_pep.id, c_old.id, c_child.id

    counts = apply_retention(session, now=NOW)

    assert counts == {
        "concern_messages": 1,
        "concerns": 1,
        "answer_wording_edits": 0,
        "pep_comments": 0,
        "answers": 2,
        "invites": 2,
        "telegram_chats": 1,
        "peps": 2,
        "children": 1,
        "unused_invites": 2,
        "conversations_of_expired_peps": 2,
        "conversations_of_submitted_peps": 1,
        "unlinked_conversations": 1,
        "conversation_events": counts["conversation_events"],
        "staff_sessions": 0,
    }
    assert session.get(Child, a_child_id) is None
    assert session.get(Child, c_child_id) is not None
    remaining = set(session.scalars(select(Pep.id)))
    assert remaining == {b_pep.id, c_new.id, d_pep.id, e_pep.id}
    assert _count(session, Invite) == invites_before - 4
    assert not gone_ids & set(session.scalars(select(Invite.id)))
    assert kept_ids <= set(session.scalars(select(Invite.id)))
    assert _count(session, SafeguardingConcern) == _count(session, ConcernMessage) == 0
    assert _count(session, TelegramChat) == 0
    # D's answers stay with the teacher; only the engine's copy of the chat goes.
    assert _count(session, Answer, Answer.pep_id == d_pep.id) == 1
    assert tracker.keys() == {b_sender, c_new_sender, e_sender, "web-recent"}
    assert {a_sender, c_old_sender, d_sender, "web-abandoned"}.isdisjoint(tracker.keys())
    connection = session.connection()
    for word in ("perpetua", "quillfeather", "grimsditch", "marmaduke"):
        assert matches_in_database(connection, word) == {}, word
    for word in ("quillfeather", "marmaduke", "wobblegong", "tiddlywink"):
        assert tracker.count_matches(word) == 0, word
    for word in ("snorkelwhistle", "zanzibar", "fizzlebrook", "kumquat"):
        assert tracker.count_matches(word) > 0, word
    assert matches_in_database(connection, "wobblegong") == {"answers": 1}

    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.applied")
    ).one()
    assert event.actor == "system"
    assert event.detail["pep_ids"] == sorted([a_pep_id, c_old_id])
    assert event.detail["child_ids"] == [a_child_id]
    assert event.detail["meeting_before"] == "2029-07-14"
    assert event.detail["unlinked_conversations"] == 1
    text = json.dumps(event.detail).lower()
    assert not any(w in text for w in ("perpetua", "quillfeather", "grimsditch", "web-"))

    # A second run finds nothing more, and says so without an audit record.
    again = apply_retention(session, now=NOW)
    assert set(again.values()) == {0}
    assert _count(session, AuditEvent, AuditEvent.action == "retention.applied") == 1


def test_nothing_to_do_without_a_tracker_store(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    child = directory.add_child(session, OAK, "Perpetua", 4)
    directory.add_pep(session, child.id, EXPIRED_MEETING)
    counts = apply_retention(session, now=NOW)
    assert counts["peps"] == counts["children"] == 1
    assert counts["conversation_events"] == 0


def test_expired_staff_sessions_are_deleted(session: Session, tracker: Tracker) -> None:
    add_schools(session)
    staff = session.scalars(select(StaffUser).where(StaffUser.email == "dt@oak.example")).one()
    # Idle too long; past the absolute limit; and one still in use.
    idle = create_session(session, staff, now=NOW - IDLE - SECOND).row
    old = create_session(session, staff, now=NOW - ABSOLUTE - SECOND).row
    old.last_seen_at = NOW - SECOND
    live = create_session(session, staff, now=NOW - IDLE + SECOND).row
    session.flush()
    ids = (idle.id, old.id, live.id)

    counts = apply_retention(session, now=NOW)

    assert counts["staff_sessions"] == 2
    assert list(session.scalars(select(StaffSession.id).where(StaffSession.id.in_(ids)))) == [
        live.id
    ]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.applied")
    ).one()
    assert event.detail["staff_sessions"] == 2
    assert apply_retention(session, now=NOW)["staff_sessions"] == 0
