from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.reflection import ValidateReflectionForm
from bot import db
from bot.models import Answer, AnsweredBy, PepStatus, SafeguardingConcern
from bot.questions import questions_for
from bot.services.answers import MAX_ANSWER_CHARS
from bot.settings import get_settings
from tests.actions.helpers import DOMAIN, linked_pep, responses, tracker_for

PLAN = [q.key for q in questions_for(5)]


async def _answer(
    sender: str, text: str, slot: str = "going_well", **slots: Any
) -> tuple[list[Any], list[str]]:
    dispatcher = CollectingDispatcher()
    earlier = {key: "an earlier answer" for key in PLAN[: PLAN.index(slot)]}
    tracker = tracker_for(
        sender,
        text,
        slots={
            **earlier,
            "answered_by": "child",
            slot: text,
            "requested_slot": slot,
            "plan": PLAN,
            **slots,
        },
        active_loop="reflection_form",
        events=[{"event": "slot", "name": slot, "value": text}],
    )
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
    pep_id = linked_pep(committed_db, "form-1")
    events, said = await _answer("form-1", text, answered_by="with_carer")
    assert events[0] == SlotSet("going_well", text)
    assert events[1] == SlotSet("requested_slot", "proud")  # the next question for Year 5
    assert said == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == text
        assert answer.answered_by == AnsweredBy.with_carer
        assert answer.phase == "ks1_2"
        assert answer.pep.status == PepStatus.in_progress


async def test_subjects_are_tagged_beside_the_words(committed_db: Engine) -> None:
    pep_id = linked_pep(committed_db, "form-tags")
    await _answer("form-tags", "MATHS and football ⚽", slot="lessons_enjoy")
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "MATHS and football ⚽"
        assert answer.tags == ["subject:maths", "subject:pe"]


async def test_too_long_answer_is_asked_again_and_nothing_saved(committed_db: Engine) -> None:
    linked_pep(committed_db, "form-2")
    events, said = await _answer("form-2", "x" * (MAX_ANSWER_CHARS + 1))
    assert events[0] == SlotSet("going_well", None)
    assert events[1] == SlotSet("requested_slot", "going_well")
    assert said == ["utter_answer_too_long"]
    with Session(committed_db) as session:
        assert session.scalars(select(Answer)).all() == []


async def test_unlinked_chat_is_told_and_asked_again(committed_db: Engine) -> None:
    events, said = await _answer("never-linked", "reading")
    assert events[0] == SlotSet("going_well", None)
    assert said == ["utter_save_failed"]


async def test_database_down_means_told_and_asked_again(
    committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked_pep(committed_db, "form-3")
    # A store that cannot be reached: the answer must be re-asked, not lost silently.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    db.reset_engine()
    events, said = await _answer("form-3", "reading")
    assert events[0] == SlotSet("going_well", None)
    assert said == ["utter_save_failed"]


async def test_a_disclosure_inside_an_answer_is_never_saved_as_pep_text(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "form-4")
    words = "its ok but my stepdad hits me when he drinks"
    events, said = await _answer("form-4", words, slot="hard")
    assert SlotSet("hard", None) in events
    assert SlotSet("paused", True) in events
    assert events[-1] == SlotSet("requested_slot", None)  # the form pauses
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    with Session(committed_db) as session:
        assert session.scalars(select(Answer).where(Answer.pep_id == pep_id)).all() == []
        concern = session.scalars(select(SafeguardingConcern)).one()
        assert concern.words == words
        assert concern.question_key == "hard"
        assert concern.pep_id == pep_id


async def test_who_is_answering_is_understood_from_the_button_or_words(
    committed_db: Engine,
) -> None:
    linked_pep(committed_db, "form-5")
    events, _ = await _answer("form-5", "Me, with my carer's help", slot="answered_by")
    assert events[0] == SlotSet("answered_by", "with_carer")
    events, _ = await _answer("form-5", "banana", slot="answered_by")
    assert events[0] == SlotSet("answered_by", None)  # not clear: asked again


async def test_a_tapped_button_saves_its_title(committed_db: Engine) -> None:
    pep_id = linked_pep(committed_db, "form-6")
    payload = '/inform{"choice": "😀 Good"}'
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        "form-6", payload,
        entities=[{"entity": "choice", "value": "😀 Good"}],
        slots={"answered_by": "child", "feeling_now": payload, "requested_slot": "feeling_now",
               "plan": PLAN},
        active_loop="reflection_form",
        events=[{"event": "slot", "name": "feeling_now", "value": payload}],
    )  # fmt: skip
    events = await ValidateReflectionForm().run(dispatcher, tracker, DOMAIN)
    assert events[0] == SlotSet("feeling_now", "😀 Good")
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "😀 Good"


async def test_who_is_answering_survives_the_form_starting_again(committed_db: Engine) -> None:
    linked_pep(committed_db, "form-7")
    # On resuming, Rasa re-validates filled slots with the latest message ("hello").
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        "form-7", "hello", intent="greet", previous_action="action_resume",
        slots={"answered_by": "with_carer", "plan": PLAN}, active_loop="reflection_form",
        events=[{"event": "slot", "name": "answered_by", "value": "with_carer"}],
    )  # fmt: skip
    events = await ValidateReflectionForm().run(dispatcher, tracker, DOMAIN)
    assert events[0] == SlotSet("answered_by", "with_carer")
