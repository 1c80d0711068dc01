"""What the dialogue does with a message that may be a disclosure: alert, check, or answer.

Shared by the action server (actions/safeguarding.py) and the benchmarks, so the figures in
docs/benchmarks.md measure the rule the bot runs. No Rasa, no app imports.

The classifier's own confidence, and the question being answered, were tried as reasons to
keep a classifier-only flag as an answer: on the blind probes neither separated disclosures
from ordinary answers (the classifier is as sure of one as of the other), and every
threshold lost disclosures, so a classifier-only flag is always checked with the child.
"""

from __future__ import annotations

import enum

from pep_nlp.contract import Intent
from pep_nlp.safeguarding import Finding

DISCLOSURE_INTENT = Intent.safeguarding_concern


class Route(enum.Enum):
    alert = "alert"  # answered as a disclosure and the DSL told at once
    check = "check"  # the child is asked whether someone is hurting them first
    answer = "answer"  # kept as the child's answer


def route_for(*, intent: str, finding: Finding | None) -> Route:
    """`finding` is the screen's; `intent` the NLU's (after the screen's override)."""
    if finding is not None:
        return Route.check if finding.ask_first else Route.alert
    if intent == DISCLOSURE_INTENT:
        return Route.check
    return Route.answer


#: The classifier's probability of a disclosure at which a message is read as one even when
#: another intent is likelier. Missing a disclosure costs far more than a gentle check ("Are
#: you telling me someone is hurting you?"): on the held-out sets every disclosure the screen
#: missed had at least 0.30, and this raises false checks from 0.8 % to 2.2 % of ordinary
#: messages (docs/benchmarks.md).
DISCLOSURE_AT = 0.25


def disclosure_first(
    ranking: list[tuple[str, float]], at: float = DISCLOSURE_AT
) -> list[tuple[str, float]]:
    """The classifier's ranking, with a disclosure put first if it reaches `at`."""
    for index, (intent, probability) in enumerate(ranking):
        if intent == DISCLOSURE_INTENT:
            if index == 0 or probability < at:
                return ranking
            return [ranking[index], *ranking[:index], *ranking[index + 1 :]]
    return ranking
