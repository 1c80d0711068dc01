"""What the engine sends the action server each call: the conversation's state and only its
latest events.

Rasa sends the whole conversation, every event since it began, with every action call; a
turn makes 2-4 calls, so each turn cost more than the last (encoding on the engine, decoding
on the action server). PEP Voice's actions read the slots, the latest message and the last
few events (which action ran before, which slots were just set), never older history: the
newest `RECENT_EVENTS` are sent (about ten turns), with everything else Rasa sends
unchanged. That keeps a child's 60th turn as quick as their 5th (docs/benchmarks.md).

Installed with pep_engine.speedups when Rasa imports pep_engine.channel.
"""

from __future__ import annotations

import itertools
from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

#: Events sent with each call. The actions look back to the previous action at most, and
#: rasa-sdk's form validation to the slots set since then: a turn is about ten events.
RECENT_EVENTS = 100


def recent_state(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Rasa's `current_state(EventVerbosity.ALL)`, with only the latest events."""
    state: dict[str, Any] = tracker.current_state(EventVerbosity.NONE)
    total = len(tracker.events)
    recent = itertools.islice(tracker.events, max(0, total - RECENT_EVENTS), total)
    state["events"] = [event.as_dict() for event in recent]
    return state


def install() -> None:
    def _action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> dict[str, Any]:
        call = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": recent_state(tracker),
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or (
            domain.does_custom_action_explicitly_need_domain(self.name())
        ):
            call["domain"] = domain.as_dict()
        return call

    RemoteAction._action_call_format = _action_call_format
