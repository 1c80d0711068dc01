"""The domain, the questions catalogue and the actions agree; the bot's words follow the rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.questions import METADATA_KEYS, QUESTIONS

REPO = Path(__file__).resolve().parents[1]
DOMAIN: dict[str, Any] = yaml.safe_load((REPO / "domain.yml").read_text())
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
CONTROL_INTENTS = {"skip", "dont_know", "help", "stop", "change_answer", "safeguarding_concern"}


def _texts() -> list[tuple[str, str]]:
    return [(name, v["text"]) for name, vs in RESPONSES.items() for v in vs if "text" in v]


def _story_utterances() -> set[str]:
    used: set[str] = set()
    for path in (REPO / "stories").glob("*.yml"):
        used |= set(re.findall(r"action: (utter_\w+)", path.read_text()))
    return used


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_every_question_has_a_slot_and_its_wordings(question: Any) -> None:
    assert question.key in DOMAIN["slots"]
    for prefix in ("utter_ask_", "utter_simpler_", "utter_example_"):
        assert f"{prefix}{question.key}" in RESPONSES


def test_form_lists_the_questions_in_catalogue_order() -> None:
    required = DOMAIN["forms"]["reflection_form"]["required_slots"]
    assert required == [q.key for q in QUESTIONS]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_answer_slots_are_never_filled_from_a_control_intent(question: Any) -> None:
    for mapping in DOMAIN["slots"][question.key]["mappings"]:
        assert mapping["type"] == "from_text"
        assert set(mapping["not_intent"]) >= CONTROL_INTENTS
        assert mapping["conditions"] == [
            {"active_loop": "reflection_form", "requested_slot": question.key}
        ]


def test_every_response_is_used_by_a_rule_or_an_action() -> None:
    actions_code = "\n".join(p.read_text() for p in (REPO / "actions").glob("*.py"))
    families = ("utter_ask_", "utter_simpler_", "utter_example_")
    question_keys = {q.key for q in QUESTIONS}
    rasa_defaults = {"utter_default"}  # uttered by Rasa's own action_default_fallback
    for name in set(RESPONSES) - _story_utterances() - rasa_defaults:
        family = next((f for f in families if name.startswith(f)), None)
        if family and name.removeprefix(family) in question_keys:
            continue  # asked by the form (utter_ask_) or by actions via f"{family}{key}"
        assert f'"{name}"' in actions_code, f"{name} is never uttered"


def test_the_bot_says_it_is_a_program_and_never_pretends_to_feel() -> None:
    assert "computer program" in RESPONSES["utter_iamabot"][0]["text"]
    for name, text in _texts():
        lowered = text.lower()
        assert not re.search(r"\bi (feel|am (sad|happy|glad|sorry to hear))\b", lowered), name
        assert not re.search(r"\bi'm (sad|happy|glad|proud of you)\b", lowered), name
        assert "i promise" not in lowered, name


def test_disclosure_answer_never_promises_secrecy_and_gives_childline() -> None:
    for variant in RESPONSES["utter_disclosure_response"]:
        text = variant["text"]
        assert "not your fault" in text.lower()
        assert "999" in text
        if not variant.get("condition"):
            assert "0800 1111" in text
            assert "can't keep this secret" in text
        assert "why" not in text.lower()


def test_sentences_are_short_for_children() -> None:
    for name, text in _texts():
        for sentence in re.split(r"(?<=[.?!])\s+", text):
            assert len(sentence.split()) <= 30, f"{name}: {sentence!r}"


def test_metadata_keys_are_questions() -> None:
    assert {q.key for q in QUESTIONS} >= METADATA_KEYS
