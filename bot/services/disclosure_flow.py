"""What the conversation does after a message is passed on to the safeguarding lead.

A child who has told the bot something worrying may say it again, or say more. Each time it
is passed on (bot.services.safeguarding adds it to the open concern: one concern, one
alert), and the child is never stuck at the question:

1. the first message for a question gets the full disclosure reply and the choice to carry
   on or stop;
2. the second for the same question (or a repeat of something already passed on) is
   thanked briefly, and the child is offered to say something else for it or skip it;
3. the third moves on: the question is recorded as skipped and the next one is asked.

Whether a flagged message is passed on at once or checked with the child first is
pep_nlp.disclosure_policy's rule (`passed_on_at_once`), the one the benchmarks measure.

Pure functions: the actions keep the counts in slots and call these.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.security import keyed_hash
from pep_nlp.disclosure_policy import Route, route_for
from pep_nlp.safeguarding import Finding as Finding  # what the engine's screen found

#: Flagged messages for one question before the bot moves on to the next one.
MOVE_ON_AFTER = 3
#: Share of a message's words found in an earlier flagged message for it to be "the same".
SIMILAR = 0.6

_WORD = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"(.)\1{2,}")


class Step(enum.Enum):
    first = "first"  # the full reply; carry on or stop
    again = "again"  # passed on too; say something else or skip
    move_on = "move_on"  # passed on too; the question is skipped and the next one asked


@dataclass(frozen=True)
class FlowState:
    question: str | None  # the question the flagged messages were answers to
    count: int  # how many flagged messages for that question so far
    fingerprints: tuple[tuple[str, ...], ...]  # of every message passed on in this chat


@dataclass(frozen=True)
class Decision:
    step: Step
    repeat: bool  # the same or nearly the same as something already passed on
    state: FlowState  # to keep for the next flagged message


def fingerprint(text: str) -> tuple[str, ...]:
    """The message's words as short keyed hashes: enough to spot a repeat, not to read it."""
    words = {_RUN.sub(r"\1\1", w) for w in _WORD.findall(text.lower())}
    return tuple(sorted(keyed_hash("repeat:" + w)[:10] for w in words))


def is_repeat(print_: Sequence[str], earlier: Iterable[Sequence[str]]) -> bool:
    words = set(print_)
    if not words:
        return False
    return any(len(words & set(old)) / len(words) >= SIMILAR for old in earlier)


def decide(state: FlowState, question: str | None, text: str) -> Decision:
    """The step for one more flagged message, answering `question` (None: not a question)."""
    print_ = fingerprint(text)
    repeat = is_repeat(print_, state.fingerprints)
    same_question = question is not None and question == state.question
    count = state.count + 1 if same_question else 1
    if repeat and count == 1:
        count = 2  # said before, at another question: no need to go through it all again
    if question is not None and count >= MOVE_ON_AFTER:
        step = Step.move_on
    elif count >= 2 or repeat:
        step = Step.again
    else:
        step = Step.first
    prints = state.fingerprints if repeat else (*state.fingerprints, print_)
    return Decision(step, repeat, FlowState(question, count, prints))


def state_from_slots(question: object, count: object, fingerprints: object) -> FlowState:
    """Slots come back from the tracker as JSON: be forgiving about their shapes."""
    prints: tuple[tuple[str, ...], ...] = ()
    if isinstance(fingerprints, list):
        prints = tuple(tuple(str(h) for h in p) for p in fingerprints if isinstance(p, list))
    number = int(count) if isinstance(count, int | float) else 0
    return FlowState(str(question) if question else None, number, prints)


def passed_on_at_once(intent: str, finding: Finding | None) -> bool:
    """A screen finding is passed on at once; one that needs context, and a flag by the
    classifier alone (`intent`), are checked with the child first."""
    return route_for(intent=intent, finding=finding) is Route.alert
