"""Helpers to run rasa-sdk actions in-process against the test database."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.domain_text import domain
from bot.services.conversation import link_conversation
from bot.services.directory import add_child, add_pep, add_school
from bot.services.invites import issue_invite

DOMAIN: dict[str, Any] = domain()


def tracker_for(
    sender: str,
    text: str,
    *,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    previous_action: str = "action_extract_slots",  # what Rasa 3 runs after a message
    events: list[dict[str, Any]] | None = None,
    message_id: str | None = None,
) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "message_id": message_id or f"msg-{abs(hash((sender, text)))}",
        },
        events=[{"event": "action", "name": previous_action}, *(events or [])],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="the_action_running_now",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] or m["text"] for m in dispatcher.messages]


def linked_pep(engine: Engine, sender: str, year_group: int = 5) -> int:
    """A new school, child and PEP, linked to the conversation `sender`: the PEP id."""
    with Session(engine) as session:
        school = add_school(session, f"School for {sender}")
        child = add_child(session, school.name, "Jo", year_group)
        pep = add_pep(session, child.id, "2030-02-01")
        code = issue_invite(session, pep)
        session.commit()
    return link_conversation(code, sender, client="test").pep_id
