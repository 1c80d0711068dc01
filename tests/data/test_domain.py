"""The domain, the questions catalogue and the actions agree; the bot's words follow the rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain_text import DOMAIN_PATH, domain, missing_wordings
from bot.phases import Phase
from bot.questions import (
    FOLLOWED_UP,
    METADATA_KEYS,
    NOT_ANSWER_INTENTS,
    QUESTIONS,
    WORDING_PREFIXES,
    previous_slot,
)
from pep_nlp.contract import INTENTS

REPO = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = domain()
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
def test_every_question_has_a_slot_and_an_action_to_ask_it(question: Any) -> None:
    assert question.key in DOMAIN["slots"]
    assert f"action_ask_{question.key}" in DOMAIN["actions"]


def test_every_question_has_its_wordings_in_every_phase_it_is_asked_in() -> None:
    assert missing_wordings(QUESTIONS) == []


def test_a_missing_wording_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "domain"
    shutil.copytree(DOMAIN_PATH, copy)
    hand_written = copy / "pep_voice.yml"
    content = yaml.safe_load(hand_written.read_text(encoding="utf-8"))
    del content["responses"]["utter_example_proud"]
    # Only the Early Years wording left: every other phase the question is asked in lacks one.
    content["responses"]["utter_ask_friends"] = [
        v for v in content["responses"]["utter_ask_friends"] if v.get("condition")
    ]
    hand_written.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    assert missing_wordings(QUESTIONS, copy) == [
        "utter_example_proud",
        "utter_ask_friends (ks1_2, ks3_4, post_16)",
    ]


def test_a_question_needs_wordings_only_for_the_phases_it_is_asked_in() -> None:
    attendance = next(q for q in QUESTIONS if q.key == "attendance")  # from Year 7
    assert attendance.phases == {Phase.ks3_4, Phase.post_16}


def test_each_follow_up_quotes_last_time_from_its_own_slot() -> None:
    for key in FOLLOWED_UP:
        assert DOMAIN["slots"][previous_slot(key)]["mappings"] == [{"type": "custom"}]
        asking = next(q for q in QUESTIONS if q.follows_up == key)
        texts = " ".join(v["text"] for v in RESPONSES[f"utter_ask_{asking.key}"])
        assert f"{{{previous_slot(key)}}}" in texts


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


def test_the_intents_that_are_never_answers_are_intents() -> None:
    assert set(NOT_ANSWER_INTENTS) <= INTENTS


def test_every_response_is_used_by_a_rule_or_an_action() -> None:
    actions_code = "\n".join(p.read_text() for p in (REPO / "actions").glob("*.py"))
    families = WORDING_PREFIXES
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
