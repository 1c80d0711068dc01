"""The shared names in pep_nlp.contract are the domain's own."""

from __future__ import annotations

from pathlib import Path

import yaml

from pep_nlp.contract import INTENTS

DOMAIN = Path(__file__).resolve().parents[1] / "domain.yml"


def test_the_contract_intents_are_the_domains() -> None:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    assert set(domain["intents"]) == INTENTS
