import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Answer, AuditEvent, Pep
from bot.services import directory
from bot.services.answers import record_answer
from bot.services.export import export_child_voice

TEXT = 'I feel "happy" 😀\nmostly'


def test_export_document(session: Session, pep: Pep) -> None:
    record_answer(session, pep, "likes", TEXT, "child", "ks1_2", tags=["feelings"])
    record_answer(session, pep, "worries", None, "with_carer", "ks1_2", skipped=True)
    # Make the order explicit even where the clock does not tick between rows.
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for offset, answer in enumerate(session.scalars(select(Answer).order_by(Answer.id))):
        answer.created_at = base + timedelta(minutes=offset)
    record_answer(session, pep, "likes", TEXT + "!", "child", "ks1_2")  # change keeps position

    document = export_child_voice(session, pep.id, actor="teacher@example.org")
    json.dumps(document)  # JSON-ready
    # The keys of the export before issue 10, with their values (it added more keys).
    assert {k: v for k, v in document.items() if k not in {"answers", "sections"}} == {
        "year_group_label": "Year 5",
        "pep_id": pep.id,
        "meeting_date": "2030-03-14",
        "status": "in_progress",
        "submitted_at": None,
        "child_first_name": "Alex",
        "year_group": 5,
        "phase": "ks1_2",
    }
    first, second = document["answers"]
    assert first["question_key"] == "likes"
    assert first["text"] == TEXT + "!"
    assert (first["skipped"], first["answered_by"], first["phase"]) == (False, "child", "ks1_2")
    assert first["tags"] == []
    assert datetime.fromisoformat(first["answered_at"]).tzinfo is not None
    assert second == second | {"question_key": "worries", "text": None, "skipped": True}
    assert second["answered_by"] == "with_carer"

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "pep.exported")).one()
    assert (event.actor, event.pep_id) == ("teacher@example.org", pep.id)
    assert "happy" not in json.dumps(event.detail)


def test_export_scoped_by_school(session: Session, pep: Pep) -> None:
    other = directory.add_school(session, "Other School")
    with pytest.raises(directory.NotFound):
        export_child_voice(session, pep.id, "x", school_id=other.id)
    assert export_child_voice(session, pep.id, "x", school_id=pep.child.school_id)["pep_id"]


def test_export_unknown(session: Session) -> None:
    with pytest.raises(directory.NotFound):
        export_child_voice(session, 999_999, "x")
