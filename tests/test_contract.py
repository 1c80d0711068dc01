"""The shared names in pep_nlp.contract are the domain's own."""

from __future__ import annotations

from bot.domain_text import domain
from pep_nlp.contract import INTENTS


def test_the_contract_intents_are_the_domains() -> None:
    assert set(domain()["intents"]) == INTENTS
