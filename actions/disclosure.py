"""Passing a message on to the safeguarding lead and answering the child, for every path.

Every flagged message is recorded (it joins the chat's open concern, so the DSL gets one
alert), and the child is never stuck: bot.services.disclosure_flow decides whether this is
the first time (the full reply), a second time at the same question (say something else or
skip) or the third (the question is skipped and the next one asked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services.disclosure_flow import Step, decide, state_from_slots
from bot.services.safeguarding import report_disclosure_for_conversation
from pep_nlp.contract import Slot

#: The slot value of a skipped question; the store records it as skipped, never as text.
SKIPPED = "__skipped__"


@dataclass(frozen=True)
class PassedOn:
    """What passing a message on changed: slot values, and whether the form goes on."""

    slots: dict[str, Any]
    resume_form: bool

    def events(self) -> list[EventType]:
        return [
            *(SlotSet(name, value) for name, value in self.slots.items()),
            SlotSet(Slot.resume_form, self.resume_form),
        ]


async def pass_on(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    words: str,
    category: str,
    source: str,
    question_key: str | None,
    skip_question: Callable[[str], Awaitable[bool]],
    message_id: str | None = None,
) -> PassedOn:
    """Record the message for the DSL, answer the child, and say what happens next.

    `skip_question(key)` records a question as skipped (the form's own saving), returning
    False if that failed; it is called only when the bot moves on past the question.
    `message_id` identifies the words for de-duplication (default: the latest message's).
    """
    await asyncio.to_thread(
        report_disclosure_for_conversation,
        tracker.sender_id,
        words=words,
        category=category,
        source=source,
        question_key=question_key,
        message_id=message_id or tracker.latest_message.get("message_id"),
    )
    state = state_from_slots(
        tracker.get_slot(Slot.disclosure_question),
        tracker.get_slot(Slot.disclosure_count),
        tracker.get_slot(Slot.flagged_fingerprints),
    )
    decision = decide(state, question_key, words)
    slots: dict[str, Any] = {
        Slot.disclosure_question: decision.state.question,
        Slot.disclosure_count: float(decision.state.count),
        Slot.flagged_fingerprints: [list(p) for p in decision.state.fingerprints],
        Slot.after_disclosure: True,
    }
    told_before = bool(tracker.get_slot(Slot.after_disclosure) or state.fingerprints)
    if decision.step is Step.first:
        if told_before:
            dispatcher.utter_message(response="utter_disclosure_followup")
        else:
            dispatcher.utter_message(response="utter_disclosure_response")
        dispatcher.utter_message(response="utter_offer_carry_on")
        return PassedOn({**slots, Slot.paused: True}, resume_form=False)
    thanks = "utter_disclosure_already" if decision.repeat else "utter_disclosure_followup"
    dispatcher.utter_message(response=thanks)
    if question_key is None:
        dispatcher.utter_message(response="utter_offer_carry_on")
        return PassedOn({**slots, Slot.paused: True}, resume_form=False)
    if decision.step is Step.again:
        dispatcher.utter_message(response="utter_offer_skip_after_disclosure")
        return PassedOn({**slots, Slot.paused: False, question_key: None}, resume_form=True)
    moved = await skip_question(question_key)
    dispatcher.utter_message(response="utter_disclosure_move_on")
    value = SKIPPED if moved else None
    return PassedOn({**slots, Slot.paused: False, question_key: value}, resume_form=True)
