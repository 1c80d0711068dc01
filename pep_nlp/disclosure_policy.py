"""What the dialogue does with a message that may be a disclosure: alert, check, or answer.

Shared by the action server (actions/safeguarding.py) and the benchmarks, so the figures in
docs/benchmarks.md measure the rule the bot runs. No Rasa, no app imports.
"""

from __future__ import annotations

import enum

from pep_nlp.safeguarding import Finding


class Route(enum.Enum):
    alert = "alert"  # answered as a disclosure and the DSL told at once
    check = "check"  # the child is asked whether someone is hurting them first
    answer = "answer"  # kept as the child's answer


def route_for(
    *,
    intent: str,
    confidence: float,
    finding: Finding | None,
    question: str | None,
    text: str,
) -> Route:
    if finding is not None:
        return Route.check if finding.ask_first else Route.alert
    if intent == "safeguarding_concern":
        return Route.check
    return Route.answer
