"""Deterministic safeguarding screen: does a child's message need a human to read it now?

Why rules and not the intent classifier alone: a classifier trained on examples misses
phrasings it has not seen (the 2018 chatbots answered a child's rape disclosure with cheerful
nonsense). This screen is a readable lexicon of word patterns that a Designated Safeguarding
Lead can extend, run over a *normalised* copy of the message:

1. tokens come from the project's spaCy pipeline (`pep_nlp.pipeline`);
2. each token is lower-cased, its repeated letters squeezed ("hurtsss"), contractions and
   text speak expanded ("im" -> "i am", "u" -> "you"), emoji turned into words ("👊" -> punch)
   and known misspellings corrected ("scard" -> "scared");
3. each normalised word gets a lower-cased lemma from the pipeline's lookup table;
4. spaCy `Matcher` patterns compiled from the lexicon run over that copy; a match is dropped
   only when a guard pattern ("learned about ...", "teacher is gonna kill me") overlaps it.

When in doubt the lexicon flags: a false alarm costs a DSL a minute, a miss can cost a child.
Findings name the category and the lexicon entry id, never any of the child's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from pep_nlp.contract import ASK_FIRST_ROLE as ASK_FIRST_ROLE  # the engine's entity role
from pep_nlp.contract import CATEGORIES as CATEGORIES
from pep_nlp.pipeline import DATA_DIR, load_pipeline
from pep_nlp.vocabulary import common_words, one_edit_apart, sound_key

DEFAULT_LEXICON = DATA_DIR / "safeguarding_lexicon.yml"

# pep_nlp.contract.CATEGORIES is also the precedence when one message matches several
# categories: the first wins.


@dataclass(frozen=True)
class Finding:
    category: str  # one of CATEGORIES
    rule: str  # id of the lexicon entry that matched (safe to log: no child text)
    # True when the match needs context a pattern cannot see (a joke marker, a negation,
    # hyperbole about school work): the child is asked before anyone is alerted.
    ask_first: bool = False


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the entry and what is wrong."""


# --- normalisation ------------------------------------------------------------------------

# Pieces the English tokenizer splits off contractions typed with or without apostrophes
# ("im" -> "i" "m", "dont" -> "do" "nt"). Language mechanics, so they live here, not in the
# lexicon.
_CONTRACTION_TAILS = {
    "m": "am",
    "'m": "am",
    "re": "are",
    "'re": "are",
    "ve": "have",
    "'ve": "have",
    "ll": "will",
    "'ll": "will",
    "nt": "not",
    "n't": "not",
    "ca": "can",
    "wo": "will",
    "gon": "going",
    "wan": "want",
}
_IS_AFTER = frozenset({"he", "she", "it", "there", "that", "what", "who", "where", "here"})
_WOULD_AFTER = frozenset({"i", "he", "she", "they", "we", "you"})
# Skin tones and variation selectors: "👊🏽" and "👊" mean the same.
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d]")
_RUN_OF_THREE = re.compile(r"(.)\1{2,}")
_ID_FORMAT = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_GAP_WORDS = 3  # "..." in a pattern: up to this many words in between
_FUZZY_MIN_LENGTH = 5  # shorter words are too often other words or names one typo away
_MIN_SOUNDED_WORD = 4  # "kik" sounds like too many things
_MIN_SOUND_KEY = 2
_MIN_SOUND_SIMILARITY = 0.6


class _Normaliser:
    """Turns the tokens of a message into (word, lemma) pairs the patterns are written for."""

    def __init__(
        self,
        lemma_table: Mapping[str, str],
        known_words: frozenset[str],
        text_speak: Mapping[str, str],
        emoji: Mapping[str, str],
        spellings: Mapping[str, str],
        lemma_fixes: Mapping[str, str],
        vocabulary: Iterable[str] = (),
        common: frozenset[str] = frozenset(),
    ) -> None:
        self._lemmas = lemma_table
        self._known = known_words
        self._emoji = emoji
        self._spellings = spellings
        self._lemma_fixes = lemma_fixes
        # Multi-word text speak ("no one" -> nobody) is matched longest first.
        self._speak: dict[tuple[str, ...], list[str]] = {
            tuple(key.split()): value.split() for key, value in text_speak.items()
        }
        self._longest_key = max((len(k) for k in self._speak), default=1)
        # Unknown words one typo away from these are read as them ("toches" -> "touches").
        self._fuzzy_targets = _with_inflections(
            {w for w in spellings.values() if len(w) >= _FUZZY_MIN_LENGTH}, lemma_table
        )
        # Unknown words that sound like one of the lexicon's words ("privits", "toched"):
        # read that way only on the screen's second, sounded-out pass (asked first).
        self._common = common
        self._sounds: dict[str, list[str]] = {}
        for word in _with_inflections(set(vocabulary), lemma_table):
            key = sound_key(word)
            if len(key) >= _MIN_SOUND_KEY:
                self._sounds.setdefault(key, []).append(word)

    def words(
        self, raw_tokens: Iterable[str], *, as_written: bool = False, sound_out: bool = False
    ) -> list[str]:
        """`as_written` is for the lexicon's own words: text speak and contractions are
        expanded, but nothing is squeezed or corrected (a pattern's "kkk" stays "kkk").
        `sound_out` also reads unknown words by how they sound."""
        words: list[str] = []
        for raw in raw_tokens:
            words.extend(self._word(raw, words[-1] if words else "", as_written, sound_out))
        return self._apply_text_speak(words)

    def _sounded_out(self, text: str) -> str:
        if len(text) < _MIN_SOUNDED_WORD or text in self._common or self._is_known(text):
            return text
        candidates = self._sounds.get(sound_key(text), [])
        scored = [(SequenceMatcher(None, text, c).ratio(), c) for c in candidates]
        best = max(scored, default=(0.0, text))
        return best[1] if best[0] >= _MIN_SOUND_SIMILARITY else text

    def lemma(self, word: str) -> str:
        fixed = self._lemma_fixes.get(word)
        if fixed is not None:
            return fixed
        return str(self._lemmas.get(word, word)).lower()

    def _word(
        self, raw: str, previous: str, as_written: bool = False, sound_out: bool = False
    ) -> list[str]:
        text = _EMOJI_MODIFIERS.sub("", raw.lower().replace("\u2019", "'"))
        if not text.strip():
            return []
        if text in self._emoji:
            return self._emoji[text].split()
        if text in ("s", "'s") and previous in _IS_AFTER:
            return ["is"]
        if text in ("d", "'d") and previous in _WOULD_AFTER:
            return ["would"]
        if text in ("na", "ta") and previous in ("going", "want", "got"):
            return ["to"]
        if text in _CONTRACTION_TAILS:
            return [_CONTRACTION_TAILS[text]]
        if as_written:
            return [text]
        text = self._squeeze(text)
        if text in self._spellings:
            return [self._spellings[text]]
        guess = self._guess(text)
        # A guess can land on a known misspelling ("bullyed" -> "bulyed"): read that too.
        guess = self._spellings.get(guess, guess)
        return [self._sounded_out(guess) if sound_out and guess == text else guess]

    def _guess(self, text: str) -> str:
        """Dropped g's and e's ("touchin", "touchd"), doubled letters, one-letter typos."""
        if self._is_known(text) or not text.isalpha():
            return text
        for candidate in (text + "g", text[:-1] + "ed"):
            if text.endswith(("in", "d")) and self._is_known(candidate):
                return candidate
        for i in range(len(text) - 1):  # a doubled letter: "scaredd", "hitt"
            if text[i] == text[i + 1] and self._is_known(text[:i] + text[i + 1 :]):
                return text[:i] + text[i + 1 :]
        if len(text) >= _FUZZY_MIN_LENGTH:
            for target in self._fuzzy_targets:
                if one_edit_apart(text, target):
                    return target
        return text

    def _squeeze(self, text: str) -> str:
        """'hurtsss' -> 'hurts', 'killll' -> 'kill': the first squeezed form that is a known
        word, else the word as typed. Squeezing never makes a word the child did not type
        ("kkk" is not squeezed to "k", nor "kk" read as anything but "kk")."""
        if not _RUN_OF_THREE.search(text) or self._is_known(text):
            return text
        double = _RUN_OF_THREE.sub(r"\1\1", text)
        single = _RUN_OF_THREE.sub(r"\1", text)
        for candidate in (double, single):
            if self._is_known(candidate):
                return candidate
        return text

    def _is_known(self, text: str) -> bool:
        return text in self._known or text in self._lemmas or text in self._spellings

    def _apply_text_speak(self, words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest_key, len(words) - i), 0, -1):
                replacement = self._speak.get(tuple(words[i : i + size]))
                if replacement is not None:
                    out.extend(replacement)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out


def _with_inflections(words: set[str], lemma_table: Mapping[str, str]) -> tuple[str, ...]:
    """The words, their base forms and the -s/-ed/-ing forms the lemma table confirms."""
    forms = set(words)
    for word in {str(lemma_table.get(w, w)) for w in words}:
        forms.add(word)
        stem = word.removesuffix("e")
        for form in (word + "s", word + "es", word + "ed", stem + "ed", word + "ing", stem + "ing"):
            if form in lemma_table:
                forms.add(form)
    return tuple(sorted(forms))


# --- lexicon loading and validation -------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    id: str
    category: str
    patterns: tuple[str, ...]
    unless: tuple[str, ...]


@dataclass(frozen=True)
class _Lexicon:
    word_lists: dict[str, tuple[str, ...]]
    text_speak: dict[str, str]
    emoji: dict[str, str]
    spellings: dict[str, str]
    lemma_fixes: dict[str, str]
    guards: tuple[str, ...]
    ask_first: tuple[str, ...]
    entries: tuple[_Entry, ...]


def load_lexicon(path: Path = DEFAULT_LEXICON) -> _Lexicon:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LexiconError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise LexiconError(f"{path.name}: expected a mapping at the top level")
    word_lists = {
        name: tuple(_strings(words, f"word list '{name}'", single_words=True))
        for name, words in _mapping(data.get("words", {}), "words").items()
    }
    lexicon = _Lexicon(
        word_lists=word_lists,
        text_speak=_string_map(data.get("text_speak", {}), "text_speak"),
        emoji=_string_map(data.get("emoji", {}), "emoji"),
        spellings=_string_map(data.get("spellings", {}), "spellings"),
        lemma_fixes=_string_map(data.get("lemma_fixes", {}), "lemma_fixes"),
        guards=tuple(_strings(data.get("guards", []), "guards")),
        ask_first=tuple(_strings(data.get("ask_first", []), "ask_first")),
        entries=tuple(_entries(_mapping(data.get("categories"), "categories"))),
    )
    for pattern in (*lexicon.guards, *lexicon.ask_first):
        _check_pattern(pattern, "guards and ask_first", word_lists)
    for name in (_NEGATIONS, _JOKE_MARKERS):
        if name not in word_lists:
            raise LexiconError(f"the word list '{name}' is missing")
    for entry in lexicon.entries:
        for pattern in (*entry.patterns, *entry.unless):
            _check_pattern(pattern, f"entry '{entry.id}' ({entry.category})", word_lists)
    return lexicon


def _entries(categories: dict[str, Any]) -> Iterable[_Entry]:
    seen: set[str] = set()
    for category, entries in categories.items():
        if category not in CATEGORIES:
            raise LexiconError(
                f"unknown category '{category}'; expected one of: {', '.join(CATEGORIES)}"
            )
        if not isinstance(entries, list) or not entries:
            raise LexiconError(f"category '{category}' needs a list of entries")
        for position, raw in enumerate(entries, start=1):
            where = f"entry {position} of category '{category}'"
            if not isinstance(raw, dict):
                raise LexiconError(f"{where}: expected a mapping with id and patterns")
            entry_id = raw.get("id")
            if not isinstance(entry_id, str) or not _ID_FORMAT.match(entry_id):
                raise LexiconError(
                    f"{where}: id {entry_id!r} must be lower-case letters, digits, '_' and '.'"
                )
            where = f"entry '{entry_id}' ({category})"
            unknown_keys = set(raw) - {"id", "patterns", "unless"}
            if unknown_keys:
                raise LexiconError(f"{where}: unknown keys {sorted(unknown_keys)}")
            if entry_id in seen:
                raise LexiconError(f"{where}: id used twice")
            seen.add(entry_id)
            patterns = _strings(raw.get("patterns"), f"{where} patterns")
            if not patterns:
                raise LexiconError(f"{where}: needs at least one pattern")
            unless = _strings(raw.get("unless", []), f"{where} unless")
            yield _Entry(entry_id, category, tuple(patterns), tuple(unless))
    missing = [c for c in CATEGORIES if c not in categories]
    if missing:
        raise LexiconError(f"categories without entries: {', '.join(missing)}")


def _check_pattern(pattern: str, where: str, word_lists: Mapping[str, object]) -> None:
    slots = pattern.split()
    if not slots or all(s in ("...", "*") for s in slots):
        raise LexiconError(f"{where}: pattern {pattern!r} has no words")
    if slots[0] == "..." or slots[-1] == "...":
        raise LexiconError(f"{where}: pattern {pattern!r} cannot start or end with '...'")
    for slot in slots:
        for alternative in slot.removeprefix("=").removesuffix("?").split("|"):
            if not alternative:
                raise LexiconError(f"{where}: pattern {pattern!r} has an empty alternative")
            name = alternative.removeprefix("@")
            if alternative.startswith("@") and name not in word_lists:
                raise LexiconError(f"{where}: pattern {pattern!r} uses unknown word list '@{name}'")


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LexiconError(f"'{where}' must be a mapping")
    return value


def _string_map(value: object, where: str) -> dict[str, str]:
    mapping = _mapping(value, where)
    for key, target in mapping.items():
        if not isinstance(key, str) or not isinstance(target, str) or not target.strip():
            raise LexiconError(f"'{where}': {key!r} must map to a word, got {target!r}")
    return {key.lower(): target.lower() for key, target in mapping.items()}


def _strings(value: object, where: str, single_words: bool = False) -> list[str]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: expected a list of non-empty strings")
    if single_words and any(len(v.split()) != 1 for v in value):
        raise LexiconError(f"{where}: items must be single words (use text_speak to join)")
    return [v.strip().lower() for v in value]


# --- pattern compilation ------------------------------------------------------------------


class _Compiler:
    """Turns lexicon pattern strings into spaCy Matcher token patterns.

    `word` matches any form with the same lemma ("hit" matches hits/hitting), `=word` only
    that exact form, `a|b|@list` alternatives, a trailing `?` makes the slot optional,
    `*` is exactly one word and `...` up to three words (never across punctuation).
    """

    def __init__(self, normaliser: _Normaliser, word_lists: Mapping[str, Sequence[str]]):
        self._normaliser = normaliser
        self._word_lists = word_lists

    def compile(self, pattern: str) -> list[list[dict[str, Any]]]:
        """Token patterns for one lexicon pattern.

        spaCy's Matcher does not extend a match over a trailing optional token, so a pattern
        ending in `word?` becomes two: without the slot and with it required.
        """
        slots = pattern.split()
        if len(slots) > 1 and slots[-1].endswith("?") and slots[-1] != "?":
            shorter = " ".join(slots[:-1])
            return [*self.compile(shorter), self._tokens([*slots[:-1], slots[-1][:-1]])]
        return [self._tokens(slots)]

    def _tokens(self, slots: list[str]) -> list[dict[str, Any]]:
        tokens: list[dict[str, Any]] = []
        for slot in slots:
            if slot == "...":
                tokens.extend({"IS_PUNCT": False, "OP": "?"} for _ in range(_GAP_WORDS))
                continue
            if slot == "*":
                tokens.append({"IS_PUNCT": False})
                continue
            optional = slot.endswith("?") and len(slot) > 1
            body = slot.removesuffix("?") if optional else slot
            exact = body.startswith("=")
            words = self._expand(body.removeprefix("="))
            if exact:
                token: dict[str, Any] = {"LOWER": {"IN": sorted(words)}}
            else:
                token = {"LEMMA": {"IN": sorted({self._normaliser.lemma(w) for w in words})}}
            if optional:
                token["OP"] = "?"
            tokens.append(token)
        return tokens

    def compile_all(self, patterns: Iterable[str]) -> list[list[dict[str, Any]]]:
        return [tokens for pattern in patterns for tokens in self.compile(pattern)]

    def _expand(self, body: str) -> set[str]:
        words: set[str] = set()
        for alternative in body.split("|"):
            raw = (
                self._word_lists[alternative[1:]] if alternative.startswith("@") else (alternative,)
            )
            for word in raw:
                words.update(self._normaliser.words([word], as_written=True))
        return words


# --- the screen ---------------------------------------------------------------------------

_GUARD_KEY = "#guard"
_ASK_FIRST_KEY = "#ask_first"
# Word lists the screen itself reads (lexicon `words:`): a negation just before a match
# ("nobody hurts me") or a joke marker anywhere ("lol") turns an alert into a question.
_NEGATIONS = "negation"
_JOKE_MARKERS = "joke_marker"
_NEGATION_REACH = 3  # words before the match
# Word lists that describe context, not risk: never targets for sounding out.
_CONTEXT_LISTS = frozenset({_NEGATIONS, _JOKE_MARKERS, "school_thing", "game", "animal"})
#: Messages with fewer letters and digits than this never match: "k", "x", "kk", "ok".
MIN_SCREENED_CHARS = 3


class SafeguardingScreen:
    def __init__(self, nlp: Language, lexicon_path: Path = DEFAULT_LEXICON) -> None:
        lexicon = load_lexicon(lexicon_path)
        self._nlp = nlp
        self._normaliser = _build_normaliser(nlp, lexicon)
        compiler = _Compiler(self._normaliser, lexicon.word_lists)
        self._entries = {entry.id: entry for entry in lexicon.entries}
        self._matcher = Matcher(nlp.vocab)
        self._vetoes = Matcher(nlp.vocab)
        for entry in lexicon.entries:
            self._matcher.add(entry.id, compiler.compile_all(entry.patterns))
            if entry.unless:
                self._vetoes.add(_unless_key(entry.id), compiler.compile_all(entry.unless))
        if lexicon.guards:
            self._vetoes.add(_GUARD_KEY, compiler.compile_all(lexicon.guards))
        if lexicon.ask_first:
            self._vetoes.add(_ASK_FIRST_KEY, compiler.compile_all(lexicon.ask_first))
        self._negations = _lemmas_of(self._normaliser, lexicon.word_lists[_NEGATIONS])
        self._joke_markers = _lemmas_of(self._normaliser, lexicon.word_lists[_JOKE_MARKERS])
        self._rank = {category: rank for rank, category in enumerate(CATEGORIES)}
        self._order = {entry.id: order for order, entry in enumerate(lexicon.entries)}

    def check(self, text: str) -> Finding | None:
        return self.check_doc(self._nlp.make_doc(text))

    def check_doc(self, doc: Doc) -> Finding | None:
        """The finding for a message. Words are read as typed, corrected and expanded; if
        nothing matches, once more with unknown words sounded out ("my unkle toched my
        privits"), and such a finding is always asked first: a guess is not enough to
        alert anyone at once."""
        if sum(ch.isalnum() for ch in doc.text) < MIN_SCREENED_CHARS:
            return None
        raw = [token.text for token in doc if not token.is_space]
        words = self._normaliser.words(raw)
        finding = self._find(words)
        if finding is not None:
            return finding
        sounded_out = self._normaliser.words(raw, sound_out=True)
        if sounded_out == words:  # nothing read differently: the same words match nothing
            return None
        sounded = self._find(sounded_out)
        return Finding(sounded.category, sounded.rule, ask_first=True) if sounded else None

    def _find(self, words: list[str]) -> Finding | None:
        if not words:
            return None
        lemmas = [self._normaliser.lemma(word) for word in words]
        normalised = Doc(self._nlp.vocab, words=words, lemmas=lemmas)
        strings = self._nlp.vocab.strings
        vetoes: dict[str, list[tuple[int, int]]] = {}
        for key, start, end in self._vetoes(normalised):
            vetoes.setdefault(strings[key], []).append((start, end))
        guards = vetoes.get(_GUARD_KEY, [])
        # An immediate finding beats one that needs context, whatever their categories.
        best: tuple[tuple[bool, int, int], Finding] | None = None
        for key, start, end in self._matcher(normalised):
            entry = self._entries[strings[key]]
            blockers = guards + vetoes.get(_unless_key(entry.id), [])
            if any(s < end and start < e for s, e in blockers):
                continue
            ask_first = self._needs_context(lemmas, vetoes, start, end)
            rank = (ask_first, *self._precedence(entry))
            if best is None or rank < best[0]:
                best = (rank, Finding(entry.category, entry.id, ask_first))
        return best[1] if best else None

    def _needs_context(
        self,
        lemmas: list[str],
        vetoes: dict[str, list[tuple[int, int]]],
        start: int,
        end: int,
    ) -> bool:
        if any(s < end and start < e for s, e in vetoes.get(_ASK_FIRST_KEY, [])):
            return True
        if any(
            lemma in self._negations for lemma in lemmas[max(0, start - _NEGATION_REACH) : start]
        ):
            return True
        return any(lemma in self._joke_markers for lemma in lemmas)

    def _precedence(self, entry: _Entry) -> tuple[int, int]:
        return self._rank[entry.category], self._order[entry.id]


def _lemmas_of(normaliser: _Normaliser, words: Iterable[str]) -> frozenset[str]:
    return frozenset(
        normaliser.lemma(w) for word in words for w in normaliser.words([word], as_written=True)
    )


def _unless_key(entry_id: str) -> str:
    return f"{entry_id}#unless"


def _build_normaliser(nlp: Language, lexicon: _Lexicon) -> _Normaliser:
    if "lemmatizer" not in nlp.pipe_names:
        raise ValueError("the safeguarding screen needs a pipeline with a lookup lemmatizer")
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    known = frozenset(str(v) for v in table.values()) | frozenset(
        w for words in lexicon.word_lists.values() for w in words
    )
    return _Normaliser(
        lemma_table=table,
        known_words=known,
        text_speak=lexicon.text_speak,
        emoji=lexicon.emoji,
        spellings=lexicon.spellings,
        lemma_fixes=lexicon.lemma_fixes,
        vocabulary=_vocabulary(lexicon),
        common=common_words(),
    )


def _vocabulary(lexicon: _Lexicon) -> set[str]:
    """The words the lexicon's patterns and risk word lists are made of."""
    words = {w for name, listed in lexicon.word_lists.items() if name not in _CONTEXT_LISTS
             for w in listed}  # fmt: skip
    for entry in lexicon.entries:
        for pattern in entry.patterns:
            for slot in pattern.split():
                for alternative in slot.removeprefix("=").removesuffix("?").split("|"):
                    if alternative.isalpha():
                        words.add(alternative)
    return {w for w in words if w.isalpha() and len(w) >= _MIN_SOUNDED_WORD}


@lru_cache(maxsize=1)
def default_screen() -> SafeguardingScreen:
    return SafeguardingScreen(load_pipeline())
