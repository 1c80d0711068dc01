"""Linking a conversation to a child's PEP through the invite code."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.security import find_code
from bot.services.conversation import link_conversation
from bot.services.invites import InviteError, InviteFailure

REFUSAL_RESPONSES = {
    InviteFailure.unknown: "utter_code_unknown",
    InviteFailure.expired: "utter_code_expired",
    InviteFailure.used_elsewhere: "utter_code_used",
    InviteFailure.submitted: "utter_code_submitted",
}


def invite_code_in(message: dict[str, Any]) -> str | None:
    """The code a channel passed as an entity, else one the child typed."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "invite_code" and entity.get("value"):
            return str(entity["value"])
    return find_code(message.get("text") or "")


class ActionLinkInvite(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_link_invite"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = invite_code_in(tracker.latest_message)
        if code is None:
            dispatcher.utter_message(response="utter_code_unknown")
            return [SlotSet("pep_linked", False)]
        try:
            linked = await asyncio.to_thread(link_conversation, code, tracker.sender_id)
        except InviteError as refused:
            dispatcher.utter_message(response=REFUSAL_RESPONSES[refused.reason])
            return [SlotSet("pep_linked", False)]
        except SQLAlchemyError:
            dispatcher.utter_message(response="utter_save_failed")
            return [SlotSet("pep_linked", False)]
        dispatcher.utter_message(response="utter_intro")
        return [SlotSet("pep_linked", True), SlotSet("phase", linked.phase.value)]
