"""Answering a possible disclosure: at once, warmly, never promising secrecy; the DSL is told.

Two lines detect a disclosure: the deterministic screen (pep_nlp.safeguarding, in the engine
and again before every answer is saved) and the NLU classifier. What the dialogue does with
a flagged message is pep_nlp.disclosure_policy's rule (bot.services.disclosure_flow asks it),
the one the benchmarks measure:
- a screen finding is answered and passed on at once;
- a finding that needs context (a joke marker, a negation, school hyperbole) and a flag by
  the classifier alone are checked with the child first ("Are you telling me that someone is
  hurting you, or that you don't feel safe?"): a yes is passed on, a no keeps the words as
  the answer they were giving;
Something already passed on in this chat is never checked again: it is passed on too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.answer_form import save_skip, screen_and_save
from actions.disclosure import pass_on
from bot.services.check_reply import carries_on, says_more, yes_or_no
from bot.services.disclosure_flow import (
    Finding,
    fingerprint,
    is_repeat,
    passed_on_at_once,
    state_from_slots,
)
from bot.services.safeguarding import report_disclosure_for_conversation
from pep_nlp.contract import ASK_FIRST_ROLE, CLASSIFIER_CATEGORY, Entity, Slot


def screen_finding(message: dict[str, Any]) -> Finding | None:
    """The engine's screen finding, carried as the `safeguarding_category` entity."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == Entity.safeguarding_category and entity.get("value"):
            ask_first = entity.get("role") == ASK_FIRST_ROLE
            return Finding(str(entity["value"]), "engine", ask_first)
    return None


def _clear_check() -> list[EventType]:
    return [
        SlotSet(Slot.disclosure_unsure, False),
        SlotSet(Slot.pending_words, None),
        SlotSet(Slot.pending_question, None),
        SlotSet(Slot.pending_category, None),
        SlotSet(Slot.check_repeats, 0.0),
    ]


def _question(tracker: Tracker) -> str | None:
    """The question the message answers: the form's, or the one a disclosure interrupted."""
    key = None
    if tracker.active_loop_name:
        key = tracker.get_slot(REQUESTED_SLOT)
    elif tracker.get_slot(Slot.after_disclosure) and tracker.get_slot(Slot.paused):
        key = tracker.get_slot(Slot.disclosure_question)
    return str(key) if key else None


async def _pass_on(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    words: str,
    category: str,
    question: str | None,
    message_id: str | None = None,
) -> list[EventType]:
    async def skip(key: str) -> bool:
        return await save_skip(key, dispatcher, tracker)

    passed = await pass_on(
        dispatcher, tracker, words=words, category=category, source="engine",
        question_key=question, skip_question=skip, message_id=message_id,
    )  # fmt: skip
    return [*passed.events(), *_clear_check()]


class ActionHandleDisclosure(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_handle_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(Slot.disclosure_unsure):
            return await _answer_to_check(dispatcher, tracker)
        message = tracker.latest_message
        words, question = str(message.get("text") or ""), _question(tracker)
        finding = screen_finding(message)
        category = finding.category if finding else CLASSIFIER_CATEGORY
        if tracker.get_slot(Slot.after_disclosure) and tracker.get_slot(Slot.paused):
            if finding is None and carries_on(words):
                # "carry on" typed instead of tapped: the answer to the offer, not more to tell.
                return [
                    SlotSet(Slot.paused, False),
                    SlotSet(Slot.after_disclosure, False),
                    SlotSet(Slot.resume_form, True),
                ]
            return await _pass_on(dispatcher, tracker, words, category, question)
        earlier = state_from_slots(None, 0, tracker.get_slot(Slot.flagged_fingerprints))
        if is_repeat(fingerprint(words), earlier.fingerprints):
            return await _pass_on(dispatcher, tracker, words, category, question)
        intent = str((message.get("intent") or {}).get("name") or "")
        if passed_on_at_once(intent, finding):
            return await _pass_on(dispatcher, tracker, words, category, question)
        dispatcher.utter_message(response="utter_check_disclosure")
        return [
            SlotSet(Slot.disclosure_unsure, True),
            SlotSet(Slot.pending_words, words),
            SlotSet(Slot.pending_question, question),
            SlotSet(Slot.pending_category, category),
            SlotSet(Slot.check_repeats, 0.0),
            SlotSet(Slot.resume_form, False),
        ]


async def _answer_to_check(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The reply to the check: a yes (or anything flagged) passes the words on; a "no ..."
    keeps them as the answer, unless the reply itself is a disclosure."""
    reply = str(tracker.latest_message.get("text") or "")
    finding = screen_finding(tracker.latest_message)
    if yes_or_no(reply) is False and (finding is None or finding.ask_first):
        events, question = await _keep_as_answer(dispatcher, tracker)
        return [*events, SlotSet(Slot.resume_form, question)]
    words = str(tracker.get_slot(Slot.pending_words) or "")
    category = str(tracker.get_slot(Slot.pending_category) or CLASSIFIER_CATEGORY)
    question = tracker.get_slot(Slot.pending_question)
    # The checked words were said in an earlier message: their own key for de-duplication.
    checked_id = f"{tracker.latest_message.get('message_id')}:checked"
    events = await _pass_on(dispatcher, tracker, words, category, question, checked_id)
    if says_more(reply):  # keep what more was said too
        await asyncio.to_thread(
            report_disclosure_for_conversation, tracker.sender_id, words=reply,
            category=finding.category if finding else CLASSIFIER_CATEGORY, source="engine",
            question_key=question, message_id=tracker.latest_message.get("message_id"),
        )  # fmt: skip
    return events


async def _keep_as_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[list[EventType], bool]:
    """Save the checked words as the answer they were; (events, whether a question waits)."""
    question = tracker.get_slot(Slot.pending_question)
    words = tracker.get_slot(Slot.pending_words)
    events = _clear_check()
    if question and words:
        updates = await screen_and_save(question, str(words), dispatcher, tracker)
        events += [SlotSet(name, value) for name, value in updates.items()]
    responses = [str(m.get("response")) for m in dispatcher.messages]
    if not any(r.startswith("utter_disclosure") for r in responses):
        dispatcher.utter_message(response="utter_not_a_disclosure")
    return events, bool(question)


class ActionNotADisclosure(Action):  # type: ignore[misc]
    """The child said the message was not about harm: keep it as the answer it was."""

    def name(self) -> str:
        return "action_not_a_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events, question = await _keep_as_answer(dispatcher, tracker)
        return [*events, SlotSet(Slot.resume_after_check, question)]


class ActionCheckAgain(Action):  # type: ignore[misc]
    """Neither yes nor no to the check: ask once more, then keep the words as the answer.

    Never a loop: the second time the child's words are kept (as "no" would) and they are
    told where help is, so a child who does not want to answer the check can go on.
    """

    def name(self) -> str:
        return "action_check_again"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply = yes_or_no(str(tracker.latest_message.get("text") or ""))
        if reply is True:
            events = await _answer_to_check(dispatcher, tracker)
            return [*events, SlotSet(Slot.resume_after_check, False)]
        if reply is False:
            return await ActionNotADisclosure().run(dispatcher, tracker, domain)
        asked = float(tracker.get_slot(Slot.check_repeats) or 0)
        if asked < 1:
            dispatcher.utter_message(response="utter_check_disclosure_again")
            return [SlotSet(Slot.check_repeats, asked + 1), SlotSet(Slot.resume_after_check, False)]
        events = await ActionNotADisclosure().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_help_is_there")
        return list(events)
