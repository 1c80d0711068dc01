"""Is a message only a control phrase, or does it carry an answer?

The classifier reads "i want to move schools" as a wish to skip and "help with spelling" as
a call for help; acting on those would throw the child's answer away. The gate keeps a
control intent only for plain control phrases (pep_nlp/data/control_phrases.yml explains
the rule); the engine's `ControlPhraseGate` turns every other control reading into `inform`,
so the words are saved as the answer. No Rasa, no app imports: the benchmarks use it too.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pep_nlp.pipeline import DATA_DIR
from pep_nlp.vocabulary import common_words, one_edit_apart

DEFAULT_PHRASES = DATA_DIR / "control_phrases.yml"

CONTROL_INTENTS = frozenset(
    {"skip", "stop", "change_answer", "dont_know", "help", "greet", "goodbye", "bot_challenge"}
)
#: The intent a control reading that carries content becomes: the form saves it as text.
ANSWER_INTENT = "inform"
DISCLOSURE_INTENT = "safeguarding_concern"
#: Words around a sure phrase that leave it sure: "skip please", "um idk", "ok bye".
_POLITE = frozenset({"please", "pls", "plz", "um", "umm", "erm", "ok", "okay", "oh", "so"})

_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_FUZZY_MIN = 4  # shorter words are too often other words one typo away
_SHORT_MESSAGE = 4  # words; one unknown word in a message this short is read as a typo


class ControlPhrasesError(ValueError):
    """The phrases file is malformed; the message says where."""


@dataclass(frozen=True)
class ControlGate:
    filler: frozenset[str]
    phrases: Mapping[str, tuple[tuple[str, ...], ...]]  # intent -> phrases, longest first
    known_words: Container[str]  # English words: an unknown word is probably a typo
    unmistakable: frozenset[str] = frozenset()
    sure: Mapping[tuple[str, ...], str] = field(default_factory=dict)  # phrase -> intent

    def is_plain(self, intent: str, text: str) -> bool:
        """True when `text` is nothing but a way of saying `intent` (and filler)."""
        if intent not in CONTROL_INTENTS:
            return True
        vocabulary = {word for phrase in self.phrases.get(intent, ()) for word in phrase}
        words = [self._correct(w, vocabulary | self.filler) for w in tokens(text)]
        if len(words) <= _SHORT_MESSAGE + 1 and self.unmistakable.intersection(words):
            return True
        rest = _remove_phrases(words, self.phrases.get(intent, ()))
        content = [w for w in rest if w not in self.filler]
        if not content:
            return True
        return (
            len(content) == 1
            and len(words) <= _SHORT_MESSAGE
            and content[0].isalpha()
            and content[0] not in self.known_words
        )

    def gated_intent(
        self, intent: str, text: str, confidence: float = 0.0, trusted_at: float = 1.0
    ) -> str:
        """The intent to act on: a sure control phrase's, the classifier's if plain or if
        the classifier is at least `trusted_at` sure of it, or `inform` (keep it as the
        answer). A disclosure reading is never changed here."""
        if intent == DISCLOSURE_INTENT:
            return intent
        sure = self.sure_intent(text)
        if sure is not None:
            return sure
        if intent not in CONTROL_INTENTS or confidence >= trusted_at:
            return intent
        return intent if self.is_plain(intent, text) else ANSWER_INTENT

    def sure_intent(self, text: str) -> str | None:
        """The control a whole message certainly is ("gtg", "wat do u meen"), if any."""
        words = [w for w in tokens(text) if w not in _POLITE]
        return self.sure.get(tuple(words))

    def _correct(self, word: str, vocabulary: frozenset[str] | set[str]) -> str:
        if word in vocabulary or word in self.filler or len(word) < _FUZZY_MIN:
            return word
        for target in vocabulary:
            if len(target) >= _FUZZY_MIN and one_edit_apart(word, target):
                return target
        return word


def tokens(text: str) -> list[str]:
    """Lower-case words without apostrophes ("don't" -> "dont"); punctuation and emoji
    are dropped (they never make a message carry content)."""
    flat = text.lower().replace("\u2019", "").replace("'", "")
    return [t for t in _TOKEN.findall(flat) if t.isalnum()]


def _remove_phrases(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    rest: list[str] = []
    i = 0
    while i < len(words):
        for phrase in phrases:
            if tuple(words[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            rest.append(words[i])
            i += 1
    return rest


def load_gate(known_words: Container[str], path: Path = DEFAULT_PHRASES) -> ControlGate:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
        raise ControlPhrasesError(f"{path.name}: needs 'filler' and 'intents'")
    unknown = set(data["intents"]) - CONTROL_INTENTS
    if unknown:
        raise ControlPhrasesError(f"{path.name}: unknown intents {sorted(unknown)}")
    phrases: dict[str, tuple[tuple[str, ...], ...]] = {}
    for intent, listed in data["intents"].items():
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise ControlPhrasesError(
                f"{path.name}: '{intent}' needs a list of phrases (quote no/on/off)"
            )
        split = {tuple(tokens(p)) for p in listed if tokens(p)}
        phrases[intent] = tuple(sorted(split, key=lambda p: (-len(p), p)))
    listed_filler = data.get("filler") or []
    if not isinstance(listed_filler, list) or not all(isinstance(w, str) for w in listed_filler):
        raise ControlPhrasesError(f"{path.name}: 'filler' needs a list of words (quote no/on/off)")
    filler = frozenset(w for item in listed_filler for w in tokens(item))
    unmistakable = frozenset(str(w) for w in data.get("unmistakable") or [])
    sure: dict[tuple[str, ...], str] = {}
    for intent, listed in (data.get("sure") or {}).items():
        if intent not in CONTROL_INTENTS or not isinstance(listed, list):
            raise ControlPhrasesError(f"{path.name}: 'sure' needs control intents with lists")
        for phrase in listed:
            key = tuple(tokens(str(phrase)))
            if sure.get(key, intent) != intent:
                raise ControlPhrasesError(f"{path.name}: '{phrase}' is sure of two intents")
            sure[key] = intent
    return ControlGate(filler, phrases, known_words, unmistakable, sure)


@lru_cache(maxsize=1)
def default_gate() -> ControlGate:
    from pep_nlp.pipeline import load_pipeline

    nlp = load_pipeline()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    words = frozenset(str(v) for v in table.values()) | common_words()
    return load_gate(_KnownWords(table, words))


@dataclass(frozen=True)
class _KnownWords:
    """The lemma table's words (its keys are hashed, so `in` is the only way to ask), their
    lemmas and the common words."""

    table: Container[str]
    words: frozenset[str]

    def __contains__(self, word: object) -> bool:
        return word in self.words or word in self.table
