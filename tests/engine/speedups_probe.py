"""Run by tests/engine/test_speedups.py with the engine's Python: what Rasa does (its check
of action server replies, its event classes by name), then the same with pep_engine.speedups
installed; prints both as JSON."""

from __future__ import annotations

import json
import sys

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses

REPLIES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "proud", "value": "my drawing"}], "responses": []},
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
    "not an object",
]


def outcomes() -> list[str]:
    action = RemoteAction("validate_reflection_form", None)
    found = []
    for reply in REPLIES:
        try:
            action._validate_action_result(reply)  # type: ignore[arg-type]
            found.append("valid")
        except ValidationError as error:
            found.append(error.message)
    return found


def event_classes() -> list[str]:
    names = [*sorted({c.type_name for c in all_subclasses(Event)}), "topic", "no_such_event"]
    found = []
    for _ in range(2):  # the second time from the speed-up's memory
        for name in names:
            try:
                found.append(repr(Event.resolve_by_type(name)))
            except ValueError as error:
                found.append(str(error))
        found.append(repr(Event.resolve_by_type("no_such_event", UserUttered)))
    return found


before = {"replies": outcomes(), "events": event_classes()}
from pep_engine import speedups  # noqa: E402

speedups.install()
after = {"replies": outcomes(), "events": event_classes()}
json.dump({"before": before, "after": after}, sys.stdout)
