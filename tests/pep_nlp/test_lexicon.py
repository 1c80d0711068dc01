"""The lexicon file: loads, rejects malformed entries by name, and findings leak no text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spacy.language import Language

from pep_nlp.pipeline import load_pipeline
from pep_nlp.safeguarding import (
    CATEGORIES,
    DEFAULT_LEXICON,
    Finding,
    LexiconError,
    SafeguardingScreen,
    load_lexicon,
)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_pipeline()


def test_default_lexicon_covers_every_category() -> None:
    lexicon = load_lexicon(DEFAULT_LEXICON)
    assert {entry.category for entry in lexicon.entries} == set(CATEGORIES)


def _lexicon_with(tmp_path: Path, broken_entry: str) -> Path:
    """The real lexicon with one extra entry appended to the neglect category."""
    text = DEFAULT_LEXICON.read_text(encoding="utf-8")
    anchor = "  neglect:\n"
    assert anchor in text
    path = tmp_path / "lexicon.yml"
    path.write_text(text.replace(anchor, anchor + broken_entry, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '    - id: neglect.test_broken\n      patterns:\n        - "no @meals_typo"\n',
            r"entry 'neglect.test_broken' \(neglect\).*unknown word list '@meals_typo'",
        ),
        (
            "    - id: neglect.test_empty\n      patterns: []\n",
            r"entry 'neglect.test_empty' \(neglect\): needs at least one pattern",
        ),
        (
            '    - id: neglect.test_gap\n      patterns:\n        - "... hungry"\n',
            r"entry 'neglect.test_gap'.*cannot start or end with '...'",
        ),
        (
            '    - id: neglect.test_keys\n      pattern:\n        - "hungry"\n',
            r"entry 'neglect.test_keys' \(neglect\): unknown keys \['pattern'\]",
        ),
        (
            '    - id: Bad Id!\n      patterns:\n        - "hungry"\n',
            r"entry 1 of category 'neglect': id 'Bad Id!' must be lower-case",
        ),
        (
            '    - id: neglect.food\n      patterns:\n        - "hungry"\n',
            r"entry 'neglect.food' \(neglect\): id used twice",
        ),
        (
            '    - id: neglect.test_alt\n      patterns:\n        - "no food||tea"\n',
            r"entry 'neglect.test_alt'.*empty alternative",
        ),
    ],
)
def test_malformed_entry_is_named(tmp_path: Path, nlp: Language, entry: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        SafeguardingScreen(nlp, _lexicon_with(tmp_path, entry))


def test_unknown_category_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yml"
    text = DEFAULT_LEXICON.read_text(encoding="utf-8")
    path.write_text(text.replace("  neglect:\n", "  neglekt:\n", 1), encoding="utf-8")
    with pytest.raises(LexiconError, match="unknown category 'neglekt'"):
        load_lexicon(path)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yml"
    path.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid YAML"):
        load_lexicon(path)


def test_a_dsl_can_add_an_entry(tmp_path: Path, nlp: Language) -> None:
    entry = (
        "    - id: neglect.no_coat\n"
        '      # "i have no coat for winter"\n'
        "      patterns:\n"
        '        - "no coat|jacket for winter"\n'
    )
    screen = SafeguardingScreen(nlp, _lexicon_with(tmp_path, entry))
    # Not a known misspelling: read by how it sounds, so the child is asked first.
    assert screen.check("i got no jakkit for winter") == Finding(
        "neglect", "neglect.no_coat", ask_first=True
    )
    assert screen.check("i have no coat for winter") == Finding("neglect", "neglect.no_coat")


SECRET_WORDS = [
    "my stepdad Kevin hits me at 14 Elm Road",
    "Jayden touched me in my privates",
    "i want to kill myself tonight Mrs Patel",
    "my older cousin makes me carry weed and money for him",
]


@pytest.mark.parametrize("text", SECRET_WORDS)
def test_finding_rule_contains_no_child_text(screen: SafeguardingScreen, text: str) -> None:
    finding = screen.check(text)
    assert finding is not None
    assert finding.category in CATEGORIES
    assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", finding.rule)
    # The rule is always one of the lexicon's own ids, never built from the message.
    assert finding.rule in {entry.id for entry in load_lexicon().entries}
    assert not {"kevin", "elm", "jayden", "patel"} & set(re.split(r"[._]", finding.rule))
