"""A control word inside an answer never swallows the answer (issue 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pep_nlp.control_gate import ControlPhrasesError, default_gate, load_gate


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("skip", "skip"),
        ("skip", "can we skip this one pls"),
        ("skip", "scip"),
        ("skip", "i dont want to answer that"),
        ("stop", "i want to stop now"),
        ("stop", "gtg"),
        ("stop", "brb dinners ready"),
        ("change_answer", "chang my anser"),
        ("change_answer", "go bac to the last queston"),
        ("dont_know", "idk tbh"),
        ("dont_know", "dunno"),
        ("help", "i dont undastand"),
        ("help", "what does that mean?"),
        ("greet", "hiya"),
        ("goodbye", "bye bye"),
        ("bot_challenge", "r u a real person"),
    ],
)
def test_plain_control_phrases_are_acted_on(intent: str, text: str) -> None:
    assert default_gate().is_plain(intent, text)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("skip", "i want to move schools so im nearer my sister"),
        ("skip", "i want to move"),
        ("stop", "stop people talking over me"),
        ("stop", "I'd like to stop having my time-out pass"),
        ("change_answer", "change my seat in english"),
        ("dont_know", "i dont know what job but something with animals"),
        ("dont_know", "maybe"),
        ("help", "help with spelling"),
        ("help", "i need help with my reading"),
        ("goodbye", "later on i want to be a vet"),
    ],
)
def test_a_control_word_with_content_is_kept_as_the_answer(intent: str, text: str) -> None:
    gate = default_gate()
    assert not gate.is_plain(intent, text)
    assert gate.gated_intent(intent, text) == "inform"


def test_other_intents_pass_through() -> None:
    assert default_gate().gated_intent("safeguarding_concern", "he hits me") == (
        "safeguarding_concern"
    )
    assert default_gate().gated_intent("affirm", "yes please") == "affirm"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("filler: [a]\nintents: {jump: [x]}\n", "unknown intents"),
        ("filler: [a, no]\nintents: {skip: [skip]}\n", "quote no/on/off"),
        ("filler: [a]\nintents: {stop: [stop, off]}\n", "quote no/on/off"),
        ("just: words\n", "needs 'filler' and 'intents'"),
    ],
)
def test_a_malformed_phrases_file_says_what_is_wrong(
    tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "control_phrases.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ControlPhrasesError, match=error):
        load_gate(frozenset(), path)
