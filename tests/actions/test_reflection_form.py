from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.reflection import ValidateReflectionForm
from bot import db
from bot.models import Answer, AnsweredBy, PepStatus
from bot.services.answers import MAX_ANSWER_CHARS
from bot.services.conversation import link_conversation
from bot.services.directory import add_child, add_pep, add_school
from bot.services.invites import issue_invite
from bot.settings import get_settings
from tests.actions.helpers import responses, tracker_for

DOMAIN = {
    "slots": {"going_well": {"type": "text", "mappings": [{"type": "from_text"}]}},
    "forms": {"reflection_form": {"required_slots": ["going_well"]}},
}


def _linked_pep(engine: Engine, sender: str) -> int:
    with Session(engine) as session:
        school = add_school(session, "Elm Academy")
        child = add_child(session, school.name, "Jo", 8)
        pep = add_pep(session, child.id, "2030-02-01")
        code = issue_invite(session, pep)
        session.commit()
    return link_conversation(code, sender).pep_id


async def _answer(sender: str, text: str) -> tuple[list[object], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        sender,
        text,
        slots={"going_well": text, "requested_slot": "going_well"},
        active_loop="reflection_form",
    )
    tracker.events = [{"event": "slot", "name": "going_well", "value": text}]
    events = await ValidateReflectionForm().run(dispatcher, tracker, DOMAIN)
    return list(events), responses(dispatcher)


@pytest.mark.parametrize(
    "text",
    [
        "😀",
        "ok",
        'she said "well done" & I\'m proud',
        "line one\nline two\n\n  indented",
        "x" * MAX_ANSWER_CHARS,
    ],
)
async def test_answer_is_saved_verbatim(committed_db: Engine, text: str) -> None:
    pep_id = _linked_pep(committed_db, "form-1")
    events, said = await _answer("form-1", text)
    assert events == [SlotSet("going_well", text)]
    assert said == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == text
        assert answer.answered_by == AnsweredBy.child
        assert answer.pep.status == PepStatus.in_progress


async def test_too_long_answer_is_asked_again_and_nothing_saved(committed_db: Engine) -> None:
    _linked_pep(committed_db, "form-2")
    events, said = await _answer("form-2", "x" * (MAX_ANSWER_CHARS + 1))
    assert events == [SlotSet("going_well", None)]
    assert said == ["utter_answer_too_long"]
    with Session(committed_db) as session:
        assert session.scalars(select(Answer)).all() == []


async def test_unlinked_chat_is_told_and_asked_again(committed_db: Engine) -> None:
    events, said = await _answer("never-linked", "reading")
    assert events == [SlotSet("going_well", None)]
    assert said == ["utter_save_failed"]


async def test_database_down_means_told_and_asked_again(
    committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _linked_pep(committed_db, "form-3")
    # A store that cannot be reached: the answer must be re-asked, not lost silently.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    db.reset_engine()
    events, said = await _answer("form-3", "reading")
    assert events == [SlotSet("going_well", None)]
    assert said == ["utter_save_failed"]
