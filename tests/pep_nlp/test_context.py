"""The screen alerts at once only on what a DSL would want at once (issue 8).

Short replies never match; squeezing repeated letters never makes a word the child did not
type; a negation, a joke marker or school hyperbole turns an alert into a check with the
child; and children's real misspellings of the lexicon's words are read as those words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pep_nlp.pipeline import load_pipeline
from pep_nlp.safeguarding import LexiconError, SafeguardingScreen, load_lexicon


@pytest.mark.parametrize("reply", ["k", "kk", "K", "x", "ok", "no", "yh", "y", "🔪", "k!!"])
def test_short_replies_never_match(screen: SafeguardingScreen, reply: str) -> None:
    assert screen.check(reply) is None


@pytest.mark.parametrize("typed", ["kkkkk", "okkkk", "killlll it at football", "hmmmm"])
def test_squeezing_never_invents_a_risk_word(screen: SafeguardingScreen, typed: str) -> None:
    finding = screen.check(typed)
    assert finding is None or finding.rule != "radical.groups_and_words"


def test_a_stretched_real_word_is_still_read(screen: SafeguardingScreen) -> None:
    finding = screen.check("he hitsss me")
    assert finding is not None and not finding.ask_first


@pytest.mark.parametrize(
    "text",
    [
        "nobody hurts me",
        "no nobody is hurting me",
        "he doesn't hit me any more",
        "my sister kicks me under the table lol",
        "maths is still killing me",
        "RE, i want to die of boredom",
        "i like being left alone to read at lunch",
        "being left alone in the library with no distractions",
    ],
)
def test_context_makes_it_a_question_for_the_child(screen: SafeguardingScreen, text: str) -> None:
    finding = screen.check(text)
    assert finding is None or finding.ask_first, finding


@pytest.mark.parametrize(
    "text",
    [
        "my dad hits me",
        "i want to kill myself",
        "i get left alone all weekend with no food",
        "my stepdad hits me and nobody helps",  # the negation is not before the match
        "i'm going to jump off the bridge tonight",
    ],
)
def test_plain_disclosures_still_alert_at_once(screen: SafeguardingScreen, text: str) -> None:
    finding = screen.check(text)
    assert finding is not None and not finding.ask_first, text


@pytest.mark.parametrize(
    ("misspelled", "category"),
    [
        ("my dad hitts me", "physical_abuse"),
        ("i want to kil myself", "suicide_self_harm"),
        ("he tuches me", "sexual_abuse"),
        ("im scard to go home", None),
    ],
)
def test_corpus_misspellings_are_read_as_the_word(
    screen: SafeguardingScreen, misspelled: str, category: str | None
) -> None:
    finding = screen.check(misspelled)
    assert finding is not None, misspelled
    assert category is None or finding.category == category


def test_the_screen_needs_its_negation_and_joke_lists(tmp_path: Path) -> None:
    lexicon = Path(__file__).resolve().parents[2] / "pep_nlp" / "data" / "safeguarding_lexicon.yml"
    text = lexicon.read_text(encoding="utf-8").replace("  joke_marker:", "  joke_markers:")
    broken = tmp_path / "lexicon.yml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match="joke_marker"):
        load_lexicon(broken)
    assert SafeguardingScreen(load_pipeline())  # the shipped one loads


@pytest.mark.parametrize(
    "text",
    ["my unkle toched my privits and sed dont tell", "i want to jumb off the brigde"],
)
def test_spelling_by_ear_is_read_and_asked_first(screen: SafeguardingScreen, text: str) -> None:
    finding = screen.check(text)
    assert finding is not None and finding.ask_first, text


@pytest.mark.parametrize("text", ["i like my techer", "tbh its ok", "we did a projekt on volcanos"])
def test_sounding_out_leaves_ordinary_answers_alone(screen: SafeguardingScreen, text: str) -> None:
    assert screen.check(text) is None
