"""Starting a conversation the app has linked to a child's PEP.

The app's channels redeem the child's code or link themselves (bot.services.conversation,
throttled) and then send "/start": the engine never sees a code, so none is kept in its
tracker store. This action only reads which PEP the conversation is linked to.

It also runs when a child writes after sending their voice: the store decides. A voice the
designated teacher sent back with a question is open again, so the child carries on at that
question; one still sent is answered "already sent", and the chat is left unlinked, so every
later message asks the store again (a question sent back tomorrow is met at once).
"""

from __future__ import annotations

import asyncio

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import SKIPPED
from bot.phases import Phase
from bot.questions import FOLLOWED_UP, TEACHER_QUESTION, previous_slot
from bot.services.conversation import (
    LinkedPep,
    StoreUnavailable,
    already_sent,
    linked_conversation,
)
from pep_nlp.contract import Intent, Slot

#: What to say to a conversation that is not linked: a hello gets a hello and the question
#: for a code (a channel links a code typed next); anything else is told a code is needed.
NOT_LINKED_RESPONSES = {
    Intent.greet: ["utter_greet", "utter_ask_code"],
}


def slots_from_store(linked: LinkedPep) -> list[EventType]:
    """Fill the conversation from the store, so a child carries on where they left off."""
    events: list[EventType] = [
        SlotSet(Slot.pep_linked, True),
        SlotSet(Slot.phase, linked.phase.value),
        SlotSet(Slot.plan, list(linked.plan)),
        SlotSet(Slot.paused, False),
        SlotSet(Slot.checking, False),
        SlotSet(Slot.submitted, False),
        *(SlotSet(previous_slot(key), linked.previous.get(key)) for key in FOLLOWED_UP),
        SlotSet(Slot.answered_by, linked.answered_by.value if linked.answered_by else None),
    ]
    for key in linked.plan:
        if key in linked.answered:
            text = linked.answered[key]
            events.append(SlotSet(key, SKIPPED if text is None else text))
        elif key == TEACHER_QUESTION:  # a reply in the tracker to an earlier question
            events.append(SlotSet(key, None))
    return events


class ActionLinkInvite(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_link_invite"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            linked = await asyncio.to_thread(linked_conversation, tracker.sender_id)
            sent = linked is None and await asyncio.to_thread(already_sent, tracker.sender_id)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_save_failed")
            return [SlotSet(Slot.pep_linked, False)]
        if sent:
            dispatcher.utter_message(response="utter_already_sent")
            return [SlotSet(Slot.pep_linked, False), SlotSet(Slot.submitted, True)]
        if linked is None:
            intent = str((tracker.latest_message.get("intent") or {}).get("name"))
            for response in NOT_LINKED_RESPONSES.get(intent, ["utter_not_linked"]):
                dispatcher.utter_message(response=response)
            return [SlotSet(Slot.pep_linked, False)]
        if linked.answered:
            dispatcher.utter_message(response="utter_welcome_back")
        else:
            early = linked.phase == Phase.early_years
            dispatcher.utter_message(response="utter_intro_early_years" if early else "utter_intro")
        return slots_from_store(linked)
