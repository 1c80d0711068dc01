"""Run by tests/engine/test_tracker_store.py with the engine's Python: two engines' stores
on one SQLite file, and what each hands back after the other, or a failed turn, changed a
conversation. Prints what it saw as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pep_engine.tracker_store import RecentTrackerSQLStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  proud:
    type: text
    mappings: [{type: custom}]
"""
)


def store(path: str, recent: int = 10) -> RecentTrackerSQLStore:
    return RecentTrackerSQLStore(domain=DOMAIN, dialect="sqlite", db=path, recent=recent)


async def main(path: str) -> dict[str, object]:
    one, two = store(path), store(path)
    seen: dict[str, object] = {}
    tracker = DialogueStateTracker("child-1", DOMAIN.slots)
    tracker.update(UserUttered("hi", {"name": "greet"}))
    tracker.update(ActionExecuted("utter_greet"))
    await one.save(tracker)
    again = await one.retrieve("child-1")
    seen["kept_in_memory"] = again is tracker
    seen["events_after_save"] = len(again.events) if again else None

    # Another engine answers the child: this one must read the database again.
    elsewhere = await two.retrieve("child-1")
    assert elsewhere is not None
    elsewhere.update(SlotSet("proud", "my drawing"))
    await two.save(elsewhere)
    fresh = await one.retrieve("child-1")
    seen["after_other_engine_same_object"] = fresh is tracker
    seen["after_other_engine_slot"] = fresh.get_slot("proud") if fresh else None

    # A turn that failed before saving leaves events the database never got.
    assert fresh is not None
    await one.save(fresh)
    fresh.update(SlotSet("proud", "not saved"))
    reread = await one.retrieve("child-1")
    seen["after_failed_turn_same_object"] = reread is fresh
    seen["after_failed_turn_slot"] = reread.get_slot("proud") if reread else None

    # Only the most recent conversations stay in memory.
    small = store(path, recent=1)
    for sender in ("child-2", "child-3"):
        other = DialogueStateTracker(sender, DOMAIN.slots)
        other.update(UserUttered("hi", {"name": "greet"}))
        await small.save(other)
    seen["kept"] = sorted(small._recent)
    seen["unknown"] = await one.retrieve("nobody")
    with one.engine.connect() as connection:
        seen["journal"] = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    return seen


print(json.dumps(asyncio.run(main(sys.argv[1]))))
