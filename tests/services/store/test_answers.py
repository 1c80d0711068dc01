from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Answer, AnsweredBy, AuditEvent, Pep, PepStatus
from bot.phases import Phase
from bot.services.answers import (
    MAX_ANSWER_CHARS,
    AlreadySubmitted,
    AnswerError,
    AnswerTooLong,
    record_answer,
    submit_voice,
)

VERBATIM = [
    "I like maths 😀🎉 and 👨‍👩‍👧 my family",
    "My teacher said \"well done\" and it's 'great' `really`",
    "line one\nline two\r\n\n  indented\ttab  ",
    "   leading and trailing spaces   ",
    "x" * MAX_ANSWER_CHARS,
    "😀" * MAX_ANSWER_CHARS,
    "Zoë — naïve café; 日本語; العربية",
    "'; DROP TABLE answers; --",
]


def _reload(session: Session, answer_id: int) -> Answer:
    session.expire_all()
    answer = session.get(Answer, answer_id)
    assert answer is not None
    return answer


@pytest.mark.parametrize("text", VERBATIM)
def test_text_stored_verbatim(session: Session, pep: Pep, text: str) -> None:
    answer = record_answer(session, pep, "likes", text, AnsweredBy.child, Phase.ks1_2)
    assert _reload(session, answer.id).text == text


def test_too_long_rejected_and_nothing_written(session: Session, pep: Pep) -> None:
    with pytest.raises(AnswerTooLong) as caught:
        record_answer(session, pep, "likes", "x" * (MAX_ANSWER_CHARS + 1), "child", "ks1_2")
    assert caught.value.length == MAX_ANSWER_CHARS + 1
    assert session.scalar(select(func.count()).select_from(Answer)) == 0
    assert pep.status is PepStatus.not_started
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "answer.saved")).all()


def test_upsert_on_change(session: Session, pep: Pep) -> None:
    first = record_answer(session, pep, "worries", "spelling", "child", "ks1_2", tags=["english"])
    created, first_id = first.created_at, first.id
    second = record_answer(
        session, pep, "worries", "nothing now", AnsweredBy.with_carer, Phase.ks1_2
    )
    assert second.id == first_id
    row = _reload(session, first_id)
    assert (row.text, row.answered_by, row.tags) == ("nothing now", AnsweredBy.with_carer, [])
    assert row.created_at == created
    assert row.updated_at >= created
    assert session.scalar(select(func.count()).select_from(Answer)) == 1


def test_skipped_stores_null(session: Session, pep: Pep) -> None:
    answer = record_answer(session, pep, "help", "ignored", "child", "ks1_2", skipped=True)
    row = _reload(session, answer.id)
    assert (row.text, row.skipped) == (None, True)
    answer = record_answer(session, pep, "help", "now I will say", "child", "ks1_2")
    assert _reload(session, answer.id).skipped is False


def test_fields_and_status(session: Session, pep: Pep) -> None:
    answer = record_answer(
        session, pep, "proud", "my drawing", "carer", "ks1_2", tags=("art", "pride")
    )
    row = _reload(session, answer.id)
    assert (row.answered_by, row.phase, row.tags) == (AnsweredBy.carer, "ks1_2", ["art", "pride"])
    assert row.created_at.tzinfo is not None
    assert row.pep.status is PepStatus.in_progress


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"text": None}, "needs text"),
        ({"question_key": ""}, "question key"),
        ({"question_key": "k" * 65}, "question key"),
        ({"answered_by": "teacher"}, "teacher"),
        ({"phase": "ks5"}, "ks5"),
        ({"tags": [1]}, "tags"),
        ({"text": "a\x00b"}, "can't store"),
    ],
)
def test_bad_input(session: Session, pep: Pep, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "question_key": "likes",
        "text": "fine",
        "answered_by": "child",
        "phase": "ks1_2",
        **kwargs,
    }
    with pytest.raises(AnswerError, match=match):
        record_answer(session, pep, **args)  # type: ignore[arg-type]
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_audit_has_question_key_only(session: Session, pep: Pep) -> None:
    record_answer(session, pep, "likes", "A very private sentence", "child", "ks1_2")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "answer.saved")).one()
    assert event.detail == {"question_key": "likes"}
    assert (event.actor, event.pep_id, event.school_id) == ("child", pep.id, pep.child.school_id)


def test_submit(session: Session, pep: Pep) -> None:
    record_answer(session, pep, "likes", "football", "child", "ks1_2")
    when = datetime(2030, 3, 1, tzinfo=UTC)
    submit_voice(session, pep, now=when)
    assert (pep.status, pep.submitted_at) == (PepStatus.submitted, when)
    submit_voice(session, pep)  # twice is harmless
    assert pep.submitted_at == when
    with pytest.raises(AlreadySubmitted):
        record_answer(session, pep, "likes", "rugby", "child", "ks1_2")
    submitted = session.scalars(select(AuditEvent).where(AuditEvent.action == "voice.submitted"))
    assert len(submitted.all()) == 1


def test_pep_answers_in_asking_order(session: Session, pep: Pep) -> None:
    record_answer(session, pep, "b_second_key", "first asked", "child", "ks1_2")
    record_answer(session, pep, "a_first_key", "second asked", "child", "ks1_2")
    session.expire_all()
    assert [a.text for a in pep.answers] == ["first asked", "second asked"]
