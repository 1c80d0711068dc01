"""The shared names in pep_nlp.contract are the domain's own, and its payloads read as Rasa
reads them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.domain_text import domain
from pep_nlp import contract
from pep_nlp.contract import (
    ASK_FIRST_ROLE,
    INTENTS,
    SLASH_GUARD,
    Entity,
    Intent,
    Slot,
    as_typed_text,
    intent_payload,
    without_guard,
)
from pep_nlp.safeguarding import DEFAULT_LEXICON, load_lexicon


def _names(holder: type) -> set[str]:
    return {value for key, value in vars(holder).items() if not key.startswith("_")}


def _entities() -> dict[str, Any]:
    """Entity name -> its declaration (roles), as the domain lists them."""
    entities: dict[str, Any] = {}
    for item in domain()["entities"]:
        if isinstance(item, dict):
            entities.update(item)
        else:
            entities[item] = {}
    return entities


def test_the_contract_intents_are_the_domains() -> None:
    assert set(domain()["intents"]) == INTENTS
    assert _names(Intent) <= INTENTS


def test_the_contract_entities_are_the_domains() -> None:
    entities = _entities()
    assert _names(Entity) <= set(entities)
    roles = (entities[Entity.safeguarding_category] or {}).get("roles", [])
    assert ASK_FIRST_ROLE in roles


def test_the_contract_slots_are_the_domains() -> None:
    assert _names(Slot) <= set(domain()["slots"])


def test_the_categories_are_the_lexicons() -> None:
    lexicon = load_lexicon(DEFAULT_LEXICON)
    assert {entry.category for entry in lexicon.entries} == set(contract.CATEGORIES)
    assert contract.CLASSIFIER_CATEGORY not in contract.CATEGORIES


def test_a_payload_is_an_intent_with_its_entities_as_json() -> None:
    assert intent_payload(Intent.start) == "/start"
    payload = intent_payload(Intent.change_answer, **{Entity.question_key: "hard"})
    intent, entities = re.fullmatch(r"/(\w+)(\{.*\})", payload).groups()  # type: ignore[union-attr]
    assert (intent, json.loads(entities)) == ("change_answer", {"question_key": "hard"})
    with pytest.raises(ValueError, match="unknown intent"):
        intent_payload("not_an_intent")


def test_typed_text_that_looks_like_a_payload_is_guarded_then_restored() -> None:
    typed = "/stop that"
    assert as_typed_text(typed) == SLASH_GUARD + typed
    assert without_guard(as_typed_text(typed)) == typed
    assert as_typed_text("hello") == "hello"
