"""Writes conversations with Rasa's own SQLTrackerStore; run by the ENGINE's Python (3.10).

One JSON request a line on stdin, one JSON reply a line on stdout:
- {"op": "say", "url": URL, "sender_id": ID, "turns": [{"at": EPOCH, "user": TEXT,
   "bot": TEXT}]}: append the turns to the conversation (a new one starts with a session)
   and save it with SQLTrackerStore.save, as the engine does after each message.
- {"op": "keys", "url": URL}: the sender ids SQLTrackerStore.keys() returns.
Replies: {"ok": ...} or {"error": "..."}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# The engine keeps the answer being given in a slot too, so the words are in slot events.
DOMAIN = Domain.from_dict(
    {"slots": {"pending_answer": {"type": "text", "mappings": [{"type": "custom"}]}}}
)


def _store(url: str) -> SQLTrackerStore:
    # A URL in `host` is used as it is (SQLTrackerStore.get_db_url).
    return SQLTrackerStore(domain=DOMAIN, host=url)


async def _say(request: dict[str, Any]) -> int:
    store = _store(request["url"])
    try:
        sender = request["sender_id"]
        tracker = await store.retrieve(sender)
        if tracker is None:
            tracker = DialogueStateTracker(sender, DOMAIN.slots)
            start = request["turns"][0]["at"] - 1
            tracker.update(ActionExecuted("action_session_start", timestamp=start))
            tracker.update(SessionStarted(timestamp=start))
            tracker.update(ActionExecuted("action_listen", timestamp=start))
        for turn in request["turns"]:
            at = turn["at"]
            tracker.update(
                UserUttered(
                    turn["user"],
                    intent={"name": "inform", "confidence": 1.0},
                    timestamp=at,
                    message_id=uuid.uuid4().hex,
                )
            )
            tracker.update(SlotSet("pending_answer", turn["user"], timestamp=at))
            tracker.update(ActionExecuted("action_save_answer", timestamp=at))
            if turn.get("bot"):
                tracker.update(ActionExecuted("utter_next", timestamp=at))
                tracker.update(BotUttered(turn["bot"], timestamp=at))
            tracker.update(ActionExecuted("action_listen", timestamp=at))
        await store.save(tracker)
        return len(tracker.events)
    finally:
        store.engine.dispose()


async def _keys(request: dict[str, Any]) -> list[str]:
    store = _store(request["url"])
    try:
        return sorted(await store.keys())
    finally:
        store.engine.dispose()


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            op = _say if request["op"] == "say" else _keys
            reply: dict[str, Any] = {"ok": asyncio.run(op(request))}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
