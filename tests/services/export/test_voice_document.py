"""The child's voice as data: question order, who answered, skipped, nothing else read."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Answer, AnsweredBy, AuditEvent, Pep
from bot.services import directory
from bot.services.answers import record_answer
from bot.services.voice_document import (
    OTHER_SECTION,
    build_voice_document,
    said_by,
    voice_document_for,
    year_group_name,
)
from tests.services.export.sample import (
    DISCLOSURE_WORDS,
    FEELING,
    FIRST_NAME,
    GOING_WELL,
    TEXTS,
    WHEN_OLDER,
)


def test_document_in_question_order(session: Session, filled_pep: Pep) -> None:
    doc = build_voice_document(session, filled_pep.id)
    assert (doc.pep_id, doc.school_id) == (filled_pep.id, filled_pep.child.school_id)
    assert (doc.child_first_name, doc.year_group, doc.year_group_label) == (FIRST_NAME, 5, "Year 5")
    assert (doc.phase, doc.status) == ("ks1_2", "submitted")
    assert doc.meeting_date.isoformat() == "2030-03-14"
    assert doc.submitted_on is not None and doc.submitted_on.isoformat() == "2030-03-02"
    assert [(s.key, s.title) for s in doc.sections] == [
        ("start", "Getting started"),
        ("looking_back", "Looking back"),
        ("looking_forward", "Looking forward"),
        ("support", "Help you'd like"),
    ]
    assert [a.question_key for a in doc.answers] == [
        "feeling_now",
        "going_well",
        "hard",
        "lessons_hard",
        "when_older",
        "helps_learn",
    ]
    by_key = {a.question_key: a for a in doc.answers}
    assert {k: a.text for k, a in by_key.items()} == TEXTS  # verbatim
    assert by_key["feeling_now"].text == FEELING
    assert by_key["going_well"].label == "What's been going well"
    assert by_key["going_well"].said_by == f"{FIRST_NAME} with a carer"
    assert by_key["when_older"].said_by == "A carer"
    assert by_key["when_older"].text == WHEN_OLDER
    assert by_key["feeling_now"].said_by == FIRST_NAME
    hard = by_key["hard"]
    assert (hard.skipped, hard.text, hard.said_by) == (True, None, FIRST_NAME)
    assert all(a.teacher_wording is None for a in doc.answers)
    assert by_key["feeling_now"].answered_on.isoformat() == "2030-03-01"
    assert GOING_WELL in repr(doc)
    for word in DISCLOSURE_WORDS:
        assert word not in repr(asdict(doc))


def test_building_is_not_audited(session: Session, filled_pep: Pep) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    build_voice_document(session, filled_pep.id)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_unknown_keys_last_and_metadata_left_out(session: Session, pep: Pep) -> None:
    record_answer(session, pep, "old_question", "kept", "child", "ks1_2")
    record_answer(session, pep, "answered_by", "child", "child", "ks1_2")
    record_answer(session, pep, "friends", "jay", "child", "ks1_2")
    doc = build_voice_document(session, pep.id)
    assert [(s.key, [a.question_key for a in s.answers]) for s in doc.sections] == [
        ("looking_back", ["friends"]),
        (OTHER_SECTION, ["old_question"]),
    ]
    assert doc.sections[-1].answers[0].label == "old_question"


def test_empty_pep(session: Session, pep: Pep) -> None:
    doc = build_voice_document(session, pep.id)
    assert (doc.sections, doc.answers, doc.submitted_on) == ((), (), None)


def test_teacher_wording_is_read_when_the_column_exists(session: Session, filled_pep: Pep) -> None:
    answers = list(session.scalars(select(Answer).where(Answer.pep_id == filled_pep.id)))
    # The review pages will add the nullable column; an attribute stands in for it here.
    for answer in answers:
        answer.teacher_wording = (  # type: ignore[attr-defined]
            "Zoë is proud of her reading." if answer.question_key == "going_well" else "  "
        )
    doc = voice_document_for(filled_pep, answers)
    wording = {a.question_key: a.teacher_wording for a in doc.answers}
    assert wording.pop("going_well") == "Zoë is proud of her reading."
    assert set(wording.values()) == {None}  # blank wording is no wording


def test_scoped_by_school(session: Session, filled_pep: Pep) -> None:
    other = directory.add_school(session, "Another School")
    with pytest.raises(directory.NotFound):
        build_voice_document(session, filled_pep.id, school_id=other.id)
    with pytest.raises(directory.NotFound):
        build_voice_document(session, 999_999)
    doc = build_voice_document(session, filled_pep.id, school_id=filled_pep.child.school_id)
    assert doc.pep_id == filled_pep.id


@pytest.mark.parametrize(
    ("year", "label"), [(-1, "Nursery"), (0, "Reception"), (1, "Year 1"), (13, "Year 13")]
)
def test_year_group_name(year: int, label: str) -> None:
    assert year_group_name(year) == label


def test_said_by() -> None:
    assert said_by("Sam", AnsweredBy.child) == "Sam"
    assert said_by("Sam", AnsweredBy.with_carer) == "Sam with a carer"
    assert said_by("Sam", AnsweredBy.carer) == "A carer"
