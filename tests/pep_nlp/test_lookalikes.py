"""Benign messages that look like disclosures must not fire (false-alarm goal <= 1 %)."""

from __future__ import annotations

import pytest

from pep_nlp.safeguarding import SafeguardingScreen

LOOKALIKES = [
    "maths is killing me",
    "I could murder a pizza",
    "PE hurts my legs",
    "I killed it in my test",
    "the dog bit my homework",
    "we learned about slavery in PSHE",
    "we learned about drugs in PSHE",
    "I'm dying to go to the trip",
    "Romeo and Juliet kill themselves",
    "in english we read romeo and juliet where they kill themselves",
    "my feet are killing me",
    "i smashed it at sports day",
    "we did a project on knife crime",
    "i got hit by the ball in rounders",
    "i'm sad my friend moved",
    "i beat my brother at fifa",
    "i shot loads of zombies in the game",
    "i'm starving what's for lunch",
    "my nan is taking me to the seaside",
    "i want to be a nurse",
    "🔪",
    "👊",
    "💊",
    "🔪🔪",
    "i love my foster family",
    "sir is gonna kill me, i forgot my pe kit",
    "my hamster bit me lol",
    "we watched a film about the war in history",
    "i dont want to go back to school after christmas",
    "i ran away from a wasp",
    "i'm scared of the dark",
    "my dad is taking me to my cousins wedding",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_does_not_fire(screen: SafeguardingScreen, text: str) -> None:
    assert screen.check(text) is None, "false alarm"


def test_empty_and_whitespace(screen: SafeguardingScreen) -> None:
    assert screen.check("") is None
    assert screen.check("   \n ") is None
