"""Disclosures: answered at once, checked with the child when unsure, and never a trap."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.safeguarding import ActionCheckAgain, ActionHandleDisclosure, ActionNotADisclosure
from bot.models import Answer, ConcernMessage, SafeguardingConcern
from bot.services.conversation import AnswerOutcome, Saved, save_conversation_answer
from pep_nlp.contract import ASK_FIRST_ROLE, Entity, Intent
from tests.actions.helpers import DOMAIN, linked_pep, tracker_for

SCREENED = [{"entity": Entity.safeguarding_category, "value": "running_away_homelessness"}]


async def _run(
    action: Action,
    sender: str,
    text: str,
    *,
    intent: str = Intent.safeguarding_concern,
    **kwargs: Any,
) -> tuple[list[Any], list[str]]:
    """Run `action` on a message as the engine hands it over: what the actions read is the
    intent (`safeguarding_concern` whether the screen or the classifier flagged it), the
    screen's finding (the `safeguarding_category` entity; role `ask_first`: check first)
    and the slots. Not the classifier's confidence: pep_nlp.disclosure_policy checks every
    classifier-only flag with the child, however sure the classifier is."""
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender, text, intent=intent, **kwargs)
    events = await action.run(dispatcher, tracker, DOMAIN)
    return list(events), [m["response"] for m in dispatcher.messages]


def _concerns(engine: Engine) -> list[tuple[str, str | None, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(SafeguardingConcern)).all()
        return [(c.category, c.question_key, c.words) for c in rows]


def _slots(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_screened_disclosure_is_answered_and_recorded_at_once(committed_db: Engine) -> None:
    linked_pep(committed_db, "d-1")
    category = [{"entity": Entity.safeguarding_category, "value": "physical_abuse"}]
    events, said = await _run(
        ActionHandleDisclosure(), "d-1", "he hits me", entities=category,
        slots={"requested_slot": "hard"}, active_loop="reflection_form",
    )  # fmt: skip
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    assert SlotSet("paused", True) in events
    assert SlotSet("resume_form", False) in events
    assert _concerns(committed_db) == [("physical_abuse", "hard", "he hits me")]


async def test_a_finding_that_needs_context_is_checked_with_the_child(
    committed_db: Engine,
) -> None:
    linked_pep(committed_db, "d-ctx")
    entities = [
        {"entity": Entity.safeguarding_category, "value": "neglect", "role": ASK_FIRST_ROLE}
    ]
    events, said = await _run(
        ActionHandleDisclosure(), "d-ctx", "i like being left alone to read", entities=entities,
        slots={"requested_slot": "helps_learn"}, active_loop="reflection_form",
    )  # fmt: skip
    assert said == ["utter_check_disclosure"]
    assert SlotSet("pending_category", "neglect") in events
    assert _concerns(committed_db) == []


async def test_a_flag_by_the_classifier_alone_is_checked_then_yes_tells_the_dsl(
    committed_db: Engine,
) -> None:
    linked_pep(committed_db, "d-2")
    events, said = await _run(
        ActionHandleDisclosure(), "d-2", "nobody at home talks to me",
        slots={"requested_slot": "friends"}, active_loop="reflection_form",
    )  # fmt: skip
    assert said == ["utter_check_disclosure"]
    assert SlotSet("pending_words", "nobody at home talks to me") in events
    assert _concerns(committed_db) == []

    slots = {"disclosure_unsure": True, "pending_words": "nobody at home talks to me",
             "pending_question": "friends"}  # fmt: skip
    events, said = await _run(
        ActionHandleDisclosure(), "d-2", "/affirm", intent="affirm", slots=slots
    )
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    assert _concerns(committed_db) == [("classifier", "friends", "nobody at home talks to me")]


async def test_no_to_the_check_keeps_the_words_as_the_answer(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "d-3")
    slots = {"disclosure_unsure": True, "pending_words": "i'll pass on lunch club",
             "pending_question": "activities", "answered_by": "child"}  # fmt: skip
    events, said = await _run(ActionNotADisclosure(), "d-3", "/deny", intent="deny", slots=slots)
    assert said == ["utter_not_a_disclosure"]
    assert SlotSet("activities", "i'll pass on lunch club") in events
    assert events[-1] == SlotSet("resume_after_check", True)
    assert _concerns(committed_db) == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "i'll pass on lunch club"


async def test_neither_yes_nor_no_is_asked_once_more_then_the_words_are_kept(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "d-4")
    slots: dict[str, Any] = {
        "disclosure_unsure": True, "pending_words": "i play on my own at break",
        "pending_question": "friends", "answered_by": "child", "check_repeats": 0.0,
    }  # fmt: skip
    events, said = await _run(ActionCheckAgain(), "d-4", "what", intent="inform", slots=slots)
    assert said == ["utter_check_disclosure_again"]
    slots.update(_slots(events))
    events, said = await _run(ActionCheckAgain(), "d-4", "what", intent="inform", slots=slots)
    assert said == ["utter_not_a_disclosure", "utter_help_is_there"]
    assert SlotSet("resume_after_check", True) in events
    assert _concerns(committed_db) == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "i play on my own at break"


async def test_the_same_disclosure_five_times_moves_on_with_one_concern(
    committed_db: Engine,
) -> None:
    """The Year 9 child who was asked the same question for ever, and the DSL who got 31
    alerts: now one concern holds all five messages and the child is past the question."""
    pep_id = linked_pep(committed_db, "d-5", year_group=9)
    text = "i dont want to go home after school"
    slots: dict[str, Any] = {"answered_by": "child"}
    asked = ["attendance"]
    said_each: list[list[str]] = []
    for turn in range(5):
        in_form = not slots.get("paused")
        slots["requested_slot"] = asked[-1] if in_form else None
        events, said = await _run(
            ActionHandleDisclosure(), "d-5", text, entities=SCREENED, slots=dict(slots),
            active_loop="reflection_form" if in_form else None, message_id=f"m{turn}",
        )  # fmt: skip
        said_each.append(said)
        slots.update(_slots(events))
        if slots.get("resume_form") and slots.get(asked[-1]) == "__skipped__":
            asked.append({"attendance": "behaviour_support"}.get(asked[-1], "get_better_at"))
    assert said_each[0] == ["utter_disclosure_response", "utter_offer_carry_on"]
    assert said_each[1] == ["utter_disclosure_already", "utter_offer_skip_after_disclosure"]
    assert said_each[2] == ["utter_disclosure_already", "utter_disclosure_move_on"]
    assert said_each[3] == ["utter_disclosure_already", "utter_offer_skip_after_disclosure"]
    assert said_each[4] == ["utter_disclosure_already", "utter_disclosure_move_on"]
    assert asked == ["attendance", "behaviour_support", "get_better_at"]
    with Session(committed_db) as session:
        concern = session.scalars(select(SafeguardingConcern)).one()
        assert concern.message_count == 5
        assert session.scalars(select(ConcernMessage.words)).all() == [text] * 5
        skipped = session.scalars(
            select(Answer.question_key).where(Answer.pep_id == pep_id, Answer.skipped)
        ).all()
        assert sorted(skipped) == ["attendance", "behaviour_support"]
        assert session.scalars(select(Answer.text).where(Answer.text == text)).all() == []


async def test_something_already_passed_on_is_not_checked_again(committed_db: Engine) -> None:
    linked_pep(committed_db, "d-6")
    slots: dict[str, Any] = {"requested_slot": "hard"}
    events, _ = await _run(
        ActionHandleDisclosure(), "d-6", "my dad hits me", entities=SCREENED, slots=slots,
        active_loop="reflection_form", message_id="a",
    )  # fmt: skip
    slots.update(_slots(events))
    slots.update({"paused": False, "requested_slot": "friends"})
    events, said = await _run(
        ActionHandleDisclosure(), "d-6", "my dad hits me", slots=slots,
        active_loop="reflection_form", message_id="b",
    )  # fmt: skip
    assert "utter_check_disclosure" not in said
    assert said[0] == "utter_disclosure_already"
    assert len(_concerns(committed_db)) == 1


CHECKING = {"disclosure_unsure": True, "pending_words": "nobody at home talks to me",
            "pending_question": "friends", "answered_by": "child"}  # fmt: skip


async def test_no_im_safe_to_the_check_is_a_no_whatever_the_classifier_says(
    committed_db: Engine,
) -> None:
    """The classifier reads "no im safe" as a disclosure: a yes would alert the DSL about a
    child who said they were fine."""
    pep_id = linked_pep(committed_db, "d-7")
    events, said = await _run(ActionHandleDisclosure(), "d-7", "no im safe", slots=CHECKING)
    assert said == ["utter_not_a_disclosure"]
    assert SlotSet("resume_form", True) in events
    assert _concerns(committed_db) == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "nobody at home talks to me"


async def test_yes_with_more_keeps_both_messages_in_one_concern(committed_db: Engine) -> None:
    linked_pep(committed_db, "d-8")
    reply = "yes my uncle shouts at me every night"
    _, said = await _run(ActionCheckAgain(), "d-8", reply, intent="inform", slots=CHECKING)
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    with Session(committed_db) as session:
        concern = session.scalars(select(SafeguardingConcern)).one()
        assert concern.message_count == 2
        assert session.scalars(select(ConcernMessage.words)).all() == [
            "nobody at home talks to me",
            reply,
        ]


async def test_carry_on_typed_after_a_disclosure_carries_on_and_passes_nothing_on(
    committed_db: Engine,
) -> None:
    """The offer's button is "Carry on"; a child who types it is answering the offer, not
    telling more, while anything else said then is passed on as before."""
    linked_pep(committed_db, "d-carry")
    paused = {"answered_by": "child", "after_disclosure": True, "paused": True,
              "disclosure_question": "hard"}  # fmt: skip
    for typed in ("carry on", "Cary on plz", "ok keep going"):
        events, said = await _run(
            ActionHandleDisclosure(), "d-carry", typed, intent="inform", slots=dict(paused)
        )
        assert said == []
        assert _slots(events) == {"paused": False, "after_disclosure": False, "resume_form": True}
    assert _concerns(committed_db) == []
    events, said = await _run(
        ActionHandleDisclosure(), "d-carry", "carry on he hit me again", intent="inform",
        slots=dict(paused), message_id="m-more",
    )  # fmt: skip
    assert said[0] == "utter_disclosure_followup"
    assert len(_concerns(committed_db)) == 1


def test_the_saving_service_screens_the_words_and_never_saves_a_disclosure(
    committed_db: Engine,
) -> None:
    """Whoever calls it: the service that saves an answer screens it first."""
    linked_pep(committed_db, "d-save")
    told = save_conversation_answer("d-save", "hard", "he hits me")
    assert told == AnswerOutcome(Saved.disclosure, "physical_abuse")
    assert save_conversation_answer("d-save", "going_well", "art club") == AnswerOutcome(
        Saved.saved
    )
    with Session(committed_db) as session:
        saved = {a.question_key: a.text for a in session.scalars(select(Answer))}
    assert saved == {"going_well": "art club"}
