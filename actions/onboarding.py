"""Linking a conversation to a child's PEP through the invite code."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.answer_form import SKIPPED
from bot.phases import Phase
from bot.questions import questions_for
from bot.security import find_code
from bot.services.conversation import LinkedPep, link_conversation
from bot.services.invites import InviteError, InviteFailure

REFUSAL_RESPONSES = {
    InviteFailure.unknown: "utter_code_unknown",
    InviteFailure.expired: "utter_code_expired",
    InviteFailure.used_elsewhere: "utter_code_used",
    InviteFailure.submitted: "utter_code_submitted",
}


NO_CODE_RESPONSES = {
    "greet": ["utter_greet", "utter_ask_code"],
    "inform": ["utter_not_linked"],
}


def invite_code_in(message: dict[str, Any]) -> str | None:
    """The code a channel passed as an entity, else one the child typed."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "invite_code" and entity.get("value"):
            return str(entity["value"])
    return find_code(message.get("text") or "")


def slots_from_store(linked: LinkedPep, year_group_plan: list[str]) -> list[EventType]:
    """Fill the conversation from the store, so a child carries on where they left off."""
    events: list[EventType] = [
        SlotSet("pep_linked", True),
        SlotSet("phase", linked.phase.value),
        SlotSet("plan", year_group_plan),
        SlotSet("paused", False),
        SlotSet("checking", False),
        SlotSet("submitted", False),
        SlotSet("previous_get_better_at", linked.previous.get("get_better_at")),
        SlotSet("previous_help_wanted", linked.previous.get("help_wanted")),
        SlotSet("answered_by", linked.answered_by.value if linked.answered_by else None),
    ]
    for key in year_group_plan:
        if key in linked.answered:
            text = linked.answered[key]
            events.append(SlotSet(key, SKIPPED if text is None else text))
    return events


class ActionLinkInvite(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_link_invite"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = invite_code_in(tracker.latest_message)
        if code is None:
            # A hello or an answer before any code: ask for it; a start without one: refuse.
            intent = str((tracker.latest_message.get("intent") or {}).get("name"))
            for response in NO_CODE_RESPONSES.get(intent, ["utter_code_unknown"]):
                dispatcher.utter_message(response=response)
            return [SlotSet("pep_linked", False)]
        try:
            linked = await asyncio.to_thread(link_conversation, code, tracker.sender_id)
        except InviteError as refused:
            dispatcher.utter_message(response=REFUSAL_RESPONSES[refused.reason])
            return [SlotSet("pep_linked", False)]
        except SQLAlchemyError:
            dispatcher.utter_message(response="utter_save_failed")
            return [SlotSet("pep_linked", False)]
        plan = [q.key for q in questions_for(linked.year_group, linked.previous)]
        if linked.answered:
            dispatcher.utter_message(response="utter_welcome_back")
        else:
            early = linked.phase == Phase.early_years
            dispatcher.utter_message(response="utter_intro_early_years" if early else "utter_intro")
        return slots_from_store(linked, plan)
