"""Data lifecycle: subject access, erasure and retention (issue 9).

Decisions (docs/security.md, "Data lifecycle"):
- Subject access and erasure are admin work on the server (the command line): `actor` is
  who ran it, for the audit log ("cli:<user>"). The school asks the administrator; nobody
  names themselves with an email taken on trust.
- Safeguarding concerns are released only when the school's DSL approves
  (`include_concerns_approved_by`, recorded): under UK GDPR a disclosure may be withheld
  where releasing it could cause serious harm, and the DSL makes that call. Otherwise the
  export counts the concerns and says they are withheld pending the DSL's review; the
  conversation transcripts that hold a disclosure and the audit records about concerns are
  withheld with them.
- Erasure deletes safeguarding concerns here for good, so a child with concerns is erased
  only with the approval of the school's DSL (`concerns_approved_by`, recorded), who first
  copies them into the school's child-protection record.
- Retention (`apply_retention`, run by the scheduler): a PEP and everything about it
  `retention_days_after_meeting` after its meeting (the child with their last PEP); the
  engine's conversation of a PEP an hour after it was submitted (not at once: Rasa writes
  the rest of the turn after the submitting action returns, and would write a deleted
  tracker again whole); invites that expired or were revoked without being used; and
  conversations linked to no PEP `unlinked_conversation_days` after their last turn; and
  staff sessions no cookie can use any more (bot.review.sessions).
- The engine's conversations are deleted, and committed, before the app's rows are deleted
  in the caller's transaction: the invites that link them are the only way to find them. If
  the tracker store fails, nothing is deleted; if the app's transaction fails afterwards, a
  second run finishes.
- Audit records (`child.subject_access`, `child.erased`, `retention.applied`) hold ids and
  counts only, never words or names. The audit log itself is kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, delete, or_, select
from sqlalchemy.orm import Session

from bot.models import (
    Answer,
    AnswerWordingEdit,
    AuditEvent,
    Child,
    ConcernMessage,
    Invite,
    Pep,
    PepComment,
    PepStatus,
    Role,
    SafeguardingConcern,
    School,
    StaffUser,
    TelegramChat,
    utcnow,
)
from bot.phases import year_group_label
from bot.questions import BY_KEY
from bot.review.sessions import delete_expired_sessions
from bot.services import ServiceError, record_event, trackers
from bot.services.access import AccessDenied
from bot.settings import get_settings
from bot.uk_time import UK

# The engine finishes a turn well within this after the submitting action returns.
SUBMITTED_CONVERSATION_GRACE = timedelta(hours=1)

WITHHELD_NOTE = (
    "Withheld pending review by the school's Designated Safeguarding Lead, who decides "
    "whether safeguarding disclosures can be released."
)

Counts = dict[str, int]


@dataclass
class _Holdings:
    """What is held about a set of PEPs, by id, and their engine conversations."""

    pep_ids: list[int]
    senders: list[str]  # tracker sender ids linked to the PEPs
    concern_ids: list[int]
    # bound_to of the PEPs' invites -> PEP id; with every hash of `senders`.
    pep_by_hash: dict[str, int] = field(default_factory=dict)
    conversation_hashes: set[str] = field(default_factory=set)


def _holdings(
    session: Session, pep_ids: Collection[int], hashes_by_sender: dict[str, list[str]]
) -> _Holdings:
    ids = sorted(pep_ids)
    rows = session.execute(select(Invite.bound_to, Invite.pep_id).where(Invite.pep_id.in_(ids)))
    pep_by_hash = {bound: pep_id for bound, pep_id in rows if bound is not None}
    senders = trackers.senders_matching(pep_by_hash, hashes_by_sender)
    conversation_hashes = set(pep_by_hash)
    for sender in senders:
        conversation_hashes.update(hashes_by_sender[sender])
    # A disclosure made before the child typed their code has no PEP, only the conversation.
    concern_ids = list(
        session.scalars(
            select(SafeguardingConcern.id)
            .where(
                or_(
                    SafeguardingConcern.pep_id.in_(ids),
                    SafeguardingConcern.conversation_hash.in_(sorted(conversation_hashes)),
                )
            )
            .order_by(SafeguardingConcern.id)
        )
    )
    return _Holdings(ids, senders, concern_ids, pep_by_hash, conversation_hashes)


def _tracker_index() -> dict[str, list[str]]:
    return trackers.link_hashes(c.sender_id for c in trackers.list_conversations())


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


def _delete_pep_rows(session: Session, held: _Holdings) -> Counts:
    """Delete the PEPs and every row about them (not the children); the rows deleted."""
    peps, concerns = held.pep_ids, held.concern_ids
    counts = {
        "concern_messages": _deleted(
            session, delete(ConcernMessage).where(ConcernMessage.concern_id.in_(concerns))
        ),
        "concerns": _deleted(
            session, delete(SafeguardingConcern).where(SafeguardingConcern.id.in_(concerns))
        ),
        # The review's wording history and comments (issue 10) before the answers and PEPs.
        "answer_wording_edits": _deleted(
            session,
            delete(AnswerWordingEdit).where(
                AnswerWordingEdit.answer_id.in_(select(Answer.id).where(Answer.pep_id.in_(peps)))
            ),
        ),
        "pep_comments": _deleted(session, delete(PepComment).where(PepComment.pep_id.in_(peps))),
        "answers": _deleted(session, delete(Answer).where(Answer.pep_id.in_(peps))),
        "invites": _deleted(session, delete(Invite).where(Invite.pep_id.in_(peps))),
        "telegram_chats": _deleted(
            session, delete(TelegramChat).where(TelegramChat.pep_id.in_(peps))
        ),
        "peps": _deleted(session, delete(Pep).where(Pep.id.in_(peps))),
    }
    session.expire_all()  # nothing loaded may still look alive
    return counts


def _child(session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise ServiceError(f"unknown child id {child_id}")
    return child


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())


def _invite_state(invite: Invite, now: datetime) -> str:
    if invite.bound_to is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    return "expired" if invite.expires_at <= now else "open"


def _school_dsl(
    session: Session, email: str, child: Child, *, actor: str, denied: str
) -> StaffUser:
    """The DSL of the child's school with this email, whose approval is recorded; else
    AccessDenied, audited as `denied` in the caller's transaction (the CLI commits it)."""
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if (
        staff is not None
        and staff.role == Role.dsl
        and staff.school_id == child.school_id
        and staff.disabled_at is None
    ):
        return staff
    record_event(
        session,
        actor,
        denied,
        school_id=child.school_id,
        child_id=child.id,
        reason="approver_not_the_schools_dsl",
    )
    session.flush()
    raise AccessDenied(
        "--concerns-approved-by must be the email of the Designated Safeguarding Lead "
        "of the child's school"
    )


def _concern_documents(session: Session, concern_ids: list[int]) -> list[dict[str, Any]]:
    concerns = session.scalars(
        select(SafeguardingConcern)
        .where(SafeguardingConcern.id.in_(concern_ids))
        .order_by(SafeguardingConcern.created_at, SafeguardingConcern.id)
    ).all()
    documents = []
    for concern in concerns:
        messages = session.execute(
            select(ConcernMessage.created_at, ConcernMessage.words, ConcernMessage.category)
            .where(ConcernMessage.concern_id == concern.id)
            .order_by(ConcernMessage.id)
        ).all()
        said = [{"at": _iso(at), "words": words, "category": cat} for at, words, cat in messages]
        if not said:  # recorded before messages were kept separately
            words = session.scalar(
                select(SafeguardingConcern.words).where(SafeguardingConcern.id == concern.id)
            )
            said = [{"at": _iso(concern.created_at), "words": words, "category": concern.category}]
        documents.append(
            {
                "id": concern.id,
                "pep_id": concern.pep_id,
                "created_at": _iso(concern.created_at),
                "category": concern.category,
                "question_key": concern.question_key,
                "alert_status": concern.alert_status.value,
                "alerted_at": _iso(concern.alerted_at),
                "acknowledged_at": _iso(concern.acknowledged_at),
                "messages": said,
            }
        )
    return documents


def subject_access(
    session: Session,
    child_id: int,
    *,
    actor: str,
    include_concerns_approved_by: str | None = None,
) -> dict[str, Any]:
    """Everything held about one child, as a JSON-ready document; audited as `actor`
    (the administrator), without words.

    Safeguarding concerns are included only when `include_concerns_approved_by` is the
    email of the DSL of the child's school.
    """
    child = _child(session, child_id)
    approver = (
        None
        if include_concerns_approved_by is None
        else _school_dsl(
            session, include_concerns_approved_by, child, actor=actor, denied="child.access_denied"
        )
    )
    release = approver is not None
    now = utcnow()
    peps = session.scalars(
        select(Pep).where(Pep.child_id == child.id).order_by(Pep.meeting_date, Pep.id)
    ).all()
    by_sender = _tracker_index()
    held = _holdings(session, [p.id for p in peps], by_sender)

    pep_documents = []
    answer_count = invite_count = telegram_count = 0
    for pep in peps:
        answers = session.scalars(
            select(Answer).where(Answer.pep_id == pep.id).order_by(Answer.created_at, Answer.id)
        ).all()
        invites = session.scalars(
            select(Invite).where(Invite.pep_id == pep.id).order_by(Invite.created_at, Invite.id)
        ).all()
        chats = session.scalars(
            select(TelegramChat).where(TelegramChat.pep_id == pep.id).order_by(TelegramChat.id)
        ).all()
        answer_count += len(answers)
        invite_count += len(invites)
        telegram_count += len(chats)
        pep_documents.append(
            {
                "id": pep.id,
                "meeting_date": pep.meeting_date.isoformat(),
                "status": pep.status.value,
                "created_at": _iso(pep.created_at),
                "submitted_at": _iso(pep.submitted_at),
                "answers": [
                    {
                        "question_key": a.question_key,
                        "question": BY_KEY[a.question_key].label
                        if a.question_key in BY_KEY
                        else None,
                        "text": a.text,
                        "skipped": a.skipped,
                        "answered_by": a.answered_by.value,
                        "phase": a.phase,
                        "tags": list(a.tags),
                        "first_answered_at": _iso(a.created_at),
                        "last_changed_at": _iso(a.updated_at),
                        "teacher_wording": a.teacher_wording,
                    }
                    for a in answers
                ],
                # What staff wrote about the child's voice is about the child too.
                "reviewed_at": _iso(pep.reviewed_at),
                "returned_question": pep.returned_question,
                "returned_at": _iso(pep.returned_at),
                "staff_comments": [
                    {"text": c.text, "written_at": _iso(c.created_at)}
                    for c in session.scalars(
                        select(PepComment)
                        .where(PepComment.pep_id == pep.id)
                        .order_by(PepComment.created_at, PepComment.id)
                    )
                ],
                "invites": [
                    {
                        "id": i.id,
                        "state": _invite_state(i, now),
                        "created_at": _iso(i.created_at),
                        "expires_at": _iso(i.expires_at),
                        "used_at": _iso(i.bound_at),
                        "revoked_at": _iso(i.revoked_at),
                    }
                    for i in invites
                ],
                "telegram_links": [
                    {"linked_at": _iso(c.linked_at), "reminder_sent_at": _iso(c.reminder_sent_at)}
                    for c in chats
                ],
            }
        )

    # Which conversations hold a disclosure: theirs are withheld along with the concerns.
    concern_links = session.execute(
        select(SafeguardingConcern.conversation_hash, SafeguardingConcern.pep_id).where(
            SafeguardingConcern.id.in_(held.concern_ids)
        )
    ).all()
    disclosed_hashes = {h for h, _ in concern_links if h is not None}
    disclosed_peps_unknown_conversation = {p for h, p in concern_links if h is None}
    conversations = []
    message_count = withheld_conversations = 0
    for sender in held.senders:
        own = by_sender[sender]
        pep_id = next((held.pep_by_hash[h] for h in own if h in held.pep_by_hash), None)
        said = trackers.read_conversation(sender)
        entry: dict[str, Any] = {
            "pep_id": pep_id,
            "first_message_at": _iso(said[0].at) if said else None,
            "last_message_at": _iso(said[-1].at) if said else None,
        }
        holds_disclosure = bool(disclosed_hashes.intersection(own)) or (
            pep_id in disclosed_peps_unknown_conversation
        )
        if holds_disclosure and not release:
            withheld_conversations += 1
            entry.update(withheld=WITHHELD_NOTE, message_count=len(said))
        else:
            message_count += len(said)
            entry["messages"] = [
                {"at": _iso(u.at), "from": u.speaker, "text": u.text} for u in said
            ]
        conversations.append(entry)
    conversations.sort(key=lambda c: (c["first_message_at"] or "", c["pep_id"] or 0))

    pep_ids = [p.id for p in peps]
    audit_rows = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.pep_id.in_(pep_ids),
                AuditEvent.detail["child_id"].as_integer() == child.id,
                AuditEvent.detail["concern_id"].as_integer().in_(held.concern_ids),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    audit = [
        {
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "pep_id": e.pep_id,
            "detail": dict(e.detail),
        }
        for e in audit_rows
        if release or not e.action.startswith("concern.")
    ]

    concerns: dict[str, Any] = {"released": release, "count": len(held.concern_ids)}
    if release:
        assert approver is not None
        concerns["approved_by"] = approver.email
        concerns["concerns"] = _concern_documents(session, held.concern_ids)
    else:
        concerns["note"] = WITHHELD_NOTE

    school_name = session.scalar(select(School.name).where(School.id == child.school_id))
    document = {
        "generated_at": _iso(now),
        "requested_by": actor,
        "child": {
            "id": child.id,
            "first_name": child.first_name,
            "year_group": year_group_label(child.year_group),
            "phase": child.phase.value,
            "school": school_name,
            "created_at": _iso(child.created_at),
        },
        "peps": pep_documents,
        "conversations": conversations,
        "safeguarding_concerns": concerns,
        "audit_events": audit,
    }
    record_event(
        session,
        actor,
        "child.subject_access",
        school_id=child.school_id,
        child_id=child.id,
        peps=len(peps),
        answers=answer_count,
        invites=invite_count,
        telegram_links=telegram_count,
        conversations=len(conversations),
        conversation_messages=message_count,
        conversations_withheld=withheld_conversations,
        audit_events=len(audit),
        concerns=len(held.concern_ids),
        concerns_released=release,
        approved_by_id=approver.id if approver is not None else None,
    )
    session.flush()
    return document


def erase_child(
    session: Session, child_id: int, *, actor: str, concerns_approved_by: str | None = None
) -> Counts:
    """Delete everything held about the child, here and in the engine; the rows deleted.

    Admin work, audited as `child.erased` by `actor` with ids and counts. A child with
    safeguarding concerns only with `concerns_approved_by`, the email of the DSL of the
    child's school (who has copied the concerns to the child-protection record).
    """
    child = _child(session, child_id)
    school_id = child.school_id
    pep_ids = list(session.scalars(select(Pep.id).where(Pep.child_id == child.id)))
    held = _holdings(session, pep_ids, _tracker_index())
    approver = (
        None
        if concerns_approved_by is None
        else _school_dsl(
            session, concerns_approved_by, child, actor=actor, denied="child.erase_denied"
        )
    )
    if held.concern_ids and approver is None:
        record_event(
            session,
            actor,
            "child.erase_denied",
            school_id=school_id,
            child_id=child_id,
            reason="concerns_need_the_dsls_approval",
            concerns=len(held.concern_ids),
        )
        session.flush()
        raise AccessDenied(
            f"child {child_id} has safeguarding concerns, which erasure deletes for good: the "
            "school's Designated Safeguarding Lead copies them to the child-protection record "
            "first; then add --concerns-approved-by DSL_EMAIL"
        )
    tracker_events = trackers.delete_conversations(held.senders)
    counts = _delete_pep_rows(session, held)
    counts["children"] = _deleted(session, delete(Child).where(Child.id == child_id))
    counts["conversations"] = len(held.senders)
    counts["conversation_events"] = tracker_events
    record_event(
        session,
        actor,
        "child.erased",
        school_id=school_id,
        child_id=child_id,
        approved_by_id=approver.id if approver is not None else None,
        pep_ids=pep_ids,
        **counts,
    )
    session.flush()
    return counts


def _older_conversations(
    conversations: Iterable[trackers.Conversation],
    linked: Collection[str],
    hashes_by_sender: dict[str, list[str]],
    before: datetime,
) -> list[str]:
    """Conversations that no invite links and whose last event is before `before`."""
    bound = set(linked)
    return [
        c.sender_id
        for c in conversations
        if c.last_event_at is not None
        and c.last_event_at < before
        and not bound.intersection(hashes_by_sender[c.sender_id])
    ]


def apply_retention(session: Session, now: datetime | None = None) -> Counts:
    """Delete what the retention rules say is no longer needed; the rows deleted.

    Audited as `retention.applied` (ids and counts) when anything was deleted.
    """
    now = now or utcnow()
    settings = get_settings()
    # Meeting dates are UK dates: "more than N days ago" counts from today in the UK.
    meeting_before = now.astimezone(UK).date() - timedelta(
        days=settings.retention.days_after_meeting
    )
    conversations = trackers.list_conversations()
    by_sender = trackers.link_hashes(c.sender_id for c in conversations)
    all_bound = {h for h in session.scalars(select(Invite.bound_to)) if h is not None}

    expired_peps = list(
        session.scalars(select(Pep.id).where(Pep.meeting_date < meeting_before).order_by(Pep.id))
    )
    held = _holdings(session, expired_peps, by_sender)
    child_ids = set(
        session.scalars(select(Pep.child_id).where(Pep.id.in_(expired_peps)).distinct())
    )

    submitted_peps = list(
        session.scalars(
            select(Pep.id).where(
                Pep.status == PepStatus.submitted,
                Pep.submitted_at < now - SUBMITTED_CONVERSATION_GRACE,
                Pep.id.not_in(expired_peps),
            )
        )
    )
    submitted_bound = {
        h
        for h in session.scalars(select(Invite.bound_to).where(Invite.pep_id.in_(submitted_peps)))
        if h is not None
    }
    finished = [
        s for s in trackers.senders_matching(submitted_bound, by_sender) if s not in held.senders
    ]
    unlinked = _older_conversations(
        conversations,
        all_bound,
        by_sender,
        now - timedelta(days=settings.retention.unlinked_conversation_days),
    )

    # The engine's conversations first: only the invites deleted below can find them.
    tracker_events = trackers.delete_conversations([*held.senders, *finished, *unlinked])
    counts = _delete_pep_rows(session, held)
    orphans = list(
        session.scalars(
            select(Child.id)
            .where(Child.id.in_(child_ids))
            .where(~select(Pep.id).where(Pep.child_id == Child.id).exists())
        )
    )
    counts["children"] = _deleted(session, delete(Child).where(Child.id.in_(orphans)))
    counts["unused_invites"] = _deleted(
        session,
        delete(Invite).where(
            Invite.bound_to.is_(None),
            or_(Invite.expires_at <= now, Invite.revoked_at.is_not(None)),
        ),
    )
    counts["conversations_of_expired_peps"] = len(held.senders)
    counts["conversations_of_submitted_peps"] = len(finished)
    counts["unlinked_conversations"] = len(unlinked)
    counts["conversation_events"] = tracker_events
    counts["staff_sessions"] = delete_expired_sessions(session, now)
    session.expire_all()
    if any(counts.values()):
        record_event(
            session,
            "system",
            "retention.applied",
            pep_ids=held.pep_ids,
            child_ids=sorted(orphans),
            meeting_before=meeting_before.isoformat(),
            **counts,
        )
        session.flush()
    return counts
