"""bot.child_texts: every fixed text the app says to a child keeps the style its docstring
sets, as far as a machine can tell (short sentences, plain words, no claimed feelings)."""

from __future__ import annotations

import re

import pytest

from bot import child_texts

TEXTS = {
    name: value
    for name, value in vars(child_texts).items()
    if name.isupper() and isinstance(value, str)
}
MAX_WORDS_PER_SENTENCE = 16
MAX_SENTENCES = 3
#: Longer words are hard for a young or struggling reader; these few are everyday (or, for
#: "designated" teacher, the name the child knows from their PEP).
LONG_WORDS_ALLOWED = {"designated", "everything"}
MAX_LETTERS = 9
#: Feelings a program does not have, and ways of talking down to a child.
NOT_SAID = [
    "i feel",
    "i'm sorry to hear",
    "i understand how",
    "i know how you feel",
    "don't worry",
    "calm down",
    "sweetie",
    "buddy",
    "mate",
    "good boy",
    "good girl",
    "obviously",
    "simply",
    "you must",
    "you should have",
    "your fault",
    "i'm a person",
    "i am a person",
    "i'm human",
]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z']+", text)


def test_the_texts_are_found() -> None:
    # The channels' texts, gathered here from four modules.
    assert {"REFUSED_MESSAGE", "NOT_SAVED_MESSAGE", "FINISHED_MESSAGE", "REMINDER_MESSAGE"} <= set(
        TEXTS
    )
    assert len(TEXTS) >= 20


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_short_sentences(name: str) -> None:
    parts = sentences(TEXTS[name])
    assert 1 <= len(parts) <= MAX_SENTENCES, parts
    for sentence in parts:
        assert len(words(sentence)) <= MAX_WORDS_PER_SENTENCE, sentence


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_plain_words(name: str) -> None:
    long_words = {
        w
        for w in words(TEXTS[name])
        if len(w.strip("'")) > MAX_LETTERS and w.lower() not in LONG_WORDS_ALLOWED
    }
    assert not long_words, f"{name}: use plainer words than {sorted(long_words)}"


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_kind_and_honest(name: str) -> None:
    text = TEXTS[name].lower().replace("\u2019", "'")
    said = [phrase for phrase in NOT_SAID if re.search(rf"\b{re.escape(phrase)}\b", text)]
    assert not said, f"{name} says {said}"
    assert text.count("!") <= 1, "one exclamation mark at most"
    shouted = [w for w in words(TEXTS[name]) if len(w) > 3 and w.isupper() and w != "PEP"]
    assert not shouted, f"{name} shouts {shouted}"


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_no_placeholders_for_names_or_words(name: str) -> None:
    # Fixed texts: nothing is filled in, so no name or child's words can reach a lock screen.
    assert not re.search(r"[{}%]", TEXTS[name]), name


@pytest.mark.parametrize("name", sorted(n for n in TEXTS if n.endswith("_MESSAGE")))
def test_messages_are_whole_sentences(name: str) -> None:
    text = TEXTS[name]
    assert text[0].isupper() and text.endswith((".", "!", "?")), text


def test_a_long_sentence_or_a_claimed_feeling_is_caught() -> None:
    """The checks above can fail."""
    long = "This is a sentence that goes on and on with far too many words for a child to read."
    assert any(len(words(s)) > MAX_WORDS_PER_SENTENCE for s in sentences(long))
    assert re.search(r"\bi feel\b", "sorry, i feel sad about that")
