"""Telling the safeguarding lead and answering the child, shared by every detection path."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.services.safeguarding import report_disclosure_for_conversation


async def respond_to_disclosure(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    words: str,
    category: str,
    source: str,
    question_key: str | None,
) -> None:
    """Record and alert (the alert is sent in the background), then answer the child."""
    await asyncio.to_thread(
        report_disclosure_for_conversation,
        tracker.sender_id,
        words=words,
        category=category,
        source=source,
        question_key=question_key,
        message_id=tracker.latest_message.get("message_id"),
    )
    if tracker.get_slot("after_disclosure"):
        dispatcher.utter_message(response="utter_disclosure_followup")
    else:
        dispatcher.utter_message(response="utter_disclosure_response")
    dispatcher.utter_message(response="utter_offer_carry_on")
