"""Names both sides of PEP Voice share, with no Rasa import: the engine's custom components,
the actions, the app and the benchmarks read them here instead of re-typing the strings.

`tests/data/test_contract.py` checks them against the domain.
"""

from __future__ import annotations

import json
import re
from typing import Final

#: Every intent in the domain: what the NLU may predict.
INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "skip",
        "dont_know",
        "help",
        "stop",
        "bot_challenge",
        "change_answer",
        "safeguarding_concern",
        "inform",
        "start",
    }
)


class Intent:
    """Intent names the code itself sends or reads (all are in INTENTS)."""

    greet: Final = "greet"
    help: Final = "help"
    stop: Final = "stop"
    start: Final = "start"
    inform: Final = "inform"
    change_answer: Final = "change_answer"
    safeguarding_concern: Final = "safeguarding_concern"


class Entity:
    """Entity names the code reads or puts in a payload (the domain declares them)."""

    choice: Final = "choice"  # the title of the button the child tapped
    question_key: Final = "question_key"  # the question to change
    safeguarding_category: Final = "safeguarding_category"  # the engine's screen finding


#: The role the engine gives a `safeguarding_category` that needs context first.
ASK_FIRST_ROLE: Final = "ask_first"

#: The screen's categories, the most serious first (pep_nlp.safeguarding's lexicon uses
#: exactly these).
CATEGORIES: tuple[str, ...] = (
    "suicide_self_harm",
    "sexual_abuse",
    "physical_abuse",
    "exploitation_grooming",
    "fgm_forced_marriage",
    "radicalisation",
    "neglect",
    "emotional_abuse",
    "bullying_violence",
    "running_away_homelessness",
    "eating_disorder",
    "substance_misuse",
    "unsafe_home_placement",
)
#: The category of a message only the NLU classifier flagged.
CLASSIFIER_CATEGORY: Final = "classifier"


class Slot:
    """Slot names the code reads or sets (the domain declares them; the question slots are
    the question keys of bot.questions)."""

    pep_linked: Final = "pep_linked"
    phase: Final = "phase"
    plan: Final = "plan"
    answered_by: Final = "answered_by"
    paused: Final = "paused"
    checking: Final = "checking"
    submitted: Final = "submitted"
    change_ready: Final = "change_ready"
    example_given_for: Final = "example_given_for"
    after_disclosure: Final = "after_disclosure"
    disclosure_unsure: Final = "disclosure_unsure"
    resume_after_check: Final = "resume_after_check"
    resume_form: Final = "resume_form"
    pending_words: Final = "pending_words"
    pending_question: Final = "pending_question"
    pending_category: Final = "pending_category"
    check_repeats: Final = "check_repeats"
    disclosure_question: Final = "disclosure_question"
    disclosure_count: Final = "disclosure_count"
    flagged_fingerprints: Final = "flagged_fingerprints"


#: Rasa's own slot: the question the form is asking.
REQUESTED_SLOT: Final = "requested_slot"

#: Put before a child's typed text that starts with "/", so Rasa reads it as text and not as
#: an intent shortcut ("/stop{...}"). Invisible; removed before anything is saved.
SLASH_GUARD: Final = "\u2060"


def as_typed_text(text: str) -> str:
    """What to send the engine for text the child typed (never a payload the bot offered)."""
    return SLASH_GUARD + text if text.lstrip().startswith("/") else text


def without_guard(text: str) -> str:
    return text.removeprefix(SLASH_GUARD)


def intent_payload(intent: str, **entities: str) -> str:
    """A message that is an intent, as Rasa reads it: "/affirm", '/inform{"choice": "Yes"}'."""
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    return f"/{intent}" + (json.dumps(entities) if entities else "")


#: An invite code in a message, as a child types it: 8 characters of the code alphabet
#: (no 0, 1, I, L, O), any case, with its hyphen, or run together or with a space and then
#: holding a digit, so that "teachers" or "what they" are not codes.
INVITE_CODE: Final = re.compile(
    r"\b(?:[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}"
    r"|(?=[2-9a-hjkmnp-z ]{0,8}[2-9])[2-9a-hjkmnp-z]{4} ?[2-9a-hjkmnp-z]{4})\b",
    re.IGNORECASE,
)
