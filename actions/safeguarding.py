"""Answering a possible disclosure: at once, warmly, never promising secrecy; the DSL is told.

Two lines detect a disclosure: the deterministic screen (pep_nlp.safeguarding, in the engine
and again before every answer is saved) and the NLU classifier. What the dialogue does with
a flagged message is pep_nlp.disclosure_policy's rule, the one the benchmarks measure:
- a screen finding is answered and passed on at once;
- a finding that needs context (a joke marker, a negation, school hyperbole) and a flag by
  the classifier alone are checked with the child first ("Are you telling me that someone is
  hurting you, or that you don't feel safe?"): a yes is passed on, a no keeps the words as
  the answer they were giving;
- a classifier flag that the question explains ("what's hard?" expects something negative)
  is kept as the answer.
Something already passed on in this chat is never checked again: it is passed on too.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import save_answer, screen_and_save
from actions.disclosure import pass_on
from bot.services.disclosure_flow import fingerprint, is_repeat, state_from_slots
from pep_nlp.disclosure_policy import Route, route_for
from pep_nlp.safeguarding import Finding

#: The category when only the NLU classifier (not the deterministic screen) flagged it.
CLASSIFIER_CATEGORY = "classifier"
#: The entity role the engine gives a screen finding that needs context (ask first).
ASK_FIRST_ROLE = "ask_first"


def screen_finding(message: dict[str, Any]) -> Finding | None:
    """The engine's screen finding, carried as the `safeguarding_category` entity."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "safeguarding_category" and entity.get("value"):
            ask_first = entity.get("role") == ASK_FIRST_ROLE
            return Finding(str(entity["value"]), "engine", ask_first)
    return None


def _clear_check() -> list[EventType]:
    return [
        SlotSet("disclosure_unsure", False),
        SlotSet("pending_words", None),
        SlotSet("pending_question", None),
        SlotSet("pending_category", None),
        SlotSet("check_repeats", 0.0),
    ]


def _question(tracker: Tracker) -> str | None:
    """The question the message answers: the form's, or the one a disclosure interrupted."""
    key = None
    if tracker.active_loop_name:
        key = tracker.get_slot("requested_slot")
    elif tracker.get_slot("after_disclosure") and tracker.get_slot("paused"):
        key = tracker.get_slot("disclosure_question")
    return str(key) if key else None


async def _pass_on(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    words: str,
    category: str,
    question: str | None,
) -> list[EventType]:
    async def skip(key: str) -> bool:
        return await save_answer(key, None, dispatcher, tracker, skipped=True)

    passed = await pass_on(
        dispatcher, tracker, words=words, category=category, source="engine",
        question_key=question, skip_question=skip,
    )  # fmt: skip
    return [*passed.events(), *_clear_check()]


class ActionHandleDisclosure(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_handle_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("disclosure_unsure"):  # the child said yes to the check
            words = str(tracker.get_slot("pending_words") or "")
            category = str(tracker.get_slot("pending_category") or CLASSIFIER_CATEGORY)
            return await _pass_on(
                dispatcher, tracker, words, category, tracker.get_slot("pending_question")
            )
        message = tracker.latest_message
        words, question = str(message.get("text") or ""), _question(tracker)
        finding = screen_finding(message)
        category = finding.category if finding else CLASSIFIER_CATEGORY
        if tracker.get_slot("after_disclosure") and tracker.get_slot("paused"):
            return await _pass_on(dispatcher, tracker, words, category, question)
        earlier = state_from_slots(None, 0, tracker.get_slot("flagged_fingerprints"))
        if is_repeat(fingerprint(words), earlier.fingerprints):
            return await _pass_on(dispatcher, tracker, words, category, question)
        route = route_for(
            intent=str((message.get("intent") or {}).get("name") or ""),
            confidence=float((message.get("intent") or {}).get("confidence") or 0.0),
            finding=finding,
            question=question,
            text=words,
        )
        if route is Route.alert:
            return await _pass_on(dispatcher, tracker, words, category, question)
        if route is Route.answer and question is not None:
            updates = await screen_and_save(question, words, dispatcher, tracker)
            return [
                *(SlotSet(name, value) for name, value in updates.items()),
                SlotSet("resume_form", True),
            ]
        dispatcher.utter_message(response="utter_check_disclosure")
        return [
            SlotSet("disclosure_unsure", True),
            SlotSet("pending_words", words),
            SlotSet("pending_question", question),
            SlotSet("pending_category", category),
            SlotSet("check_repeats", 0.0),
            SlotSet("resume_form", False),
        ]


class ActionNotADisclosure(Action):  # type: ignore[misc]
    """The child said the message was not about harm: keep it as the answer it was."""

    def name(self) -> str:
        return "action_not_a_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = tracker.get_slot("pending_question")
        words = tracker.get_slot("pending_words")
        events = _clear_check()
        if question and words:
            updates = await screen_and_save(question, str(words), dispatcher, tracker)
            events += [SlotSet(name, value) for name, value in updates.items()]
        if not any(
            str(m.get("response")).startswith("utter_disclosure") for m in dispatcher.messages
        ):
            dispatcher.utter_message(response="utter_not_a_disclosure")
        return [*events, SlotSet("resume_after_check", bool(question))]


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
        asked = float(tracker.get_slot("check_repeats") or 0)
        if asked < 1:
            dispatcher.utter_message(response="utter_check_disclosure_again")
            return [SlotSet("check_repeats", asked + 1), SlotSet("resume_after_check", False)]
        events = await ActionNotADisclosure().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_help_is_there")
        return list(events)
