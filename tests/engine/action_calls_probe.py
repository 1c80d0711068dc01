"""Run by tests/engine/test_action_calls.py with the engine's Python: what Rasa sends the
action server for a long conversation, then what pep_engine.action_calls sends; prints JSON."""

from __future__ import annotations

import json

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from pep_engine import action_calls

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
slots:
  proud:
    type: text
    mappings: [{type: custom}]
"""
)

tracker = DialogueStateTracker("child-1", DOMAIN.slots)
for turn in range(60):
    tracker.update(UserUttered(f"answer {turn}", {"name": "inform"}))
    tracker.update(SlotSet("proud", f"answer {turn}"))
    tracker.update(ActionExecuted("action_listen"))
action = RemoteAction("validate_reflection_form", None)
before = action._action_call_format(tracker, DOMAIN)
action_calls.install()
after = action._action_call_format(tracker, DOMAIN)
print(json.dumps({"before": before, "after": after, "recent": action_calls.RECENT_EVENTS}))
