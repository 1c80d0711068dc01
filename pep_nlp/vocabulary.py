"""Which words are English, and how a word sounds: for reading children's spelling.

Both the control gate and the safeguarding screen need to tell a real word ("maybe") from a
misspelling ("scip"), and the screen reads a misspelling by how it sounds ("privits" sounds
like "privates"). No Rasa, no app imports.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

#: Words at least this frequent (log probability) are real words, never typos.
COMMON_WORD_LOG_PROB = -13.5
#: Those words with their log probabilities, taken from spaCy's lexeme probabilities
#: (spacy-lookups-data) by `python -m pep_nlp.vocabulary`: the whole table is a 7 MB JSON
#: file that took the engine a second to read at every start.
COMMON_WORDS_FILE = Path(__file__).parent / "data" / "common_words.tsv"


@lru_cache(maxsize=1)
def common_word_log_probs() -> dict[str, float]:
    """English words common enough not to be a typo ("maybe", "again", "move"), with how
    common each is."""
    lines = COMMON_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return {word: float(prob) for word, prob in (line.split("\t") for line in lines)}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The words of `common_word_log_probs`."""
    return frozenset(common_word_log_probs())


def common_words_table() -> str:
    """COMMON_WORDS_FILE's contents, made afresh from spacy-lookups-data."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        probs: dict[str, float] = json.load(handle)
    kept = sorted(w for w, p in probs.items() if p >= COMMON_WORD_LOG_PROB and w.isalpha())
    return "".join(f"{w}\t{probs[w]:.4f}\n" for w in kept)


# Spellings that sound alike, applied in order (a rough English phonetic key, in the spirit
# of Metaphone, tuned to how children spell by ear: "bruvver", "fink", "nife", "toched").
_SOUNDS = (
    (re.compile(r"^kn|^gn|^pn"), "n"),
    (re.compile(r"^wr"), "r"),
    (re.compile(r"^wh"), "w"),
    (re.compile(r"tch|ch|sh|ti(?=[aeiou])"), "X"),
    (re.compile(r"dge|dg|gd|j"), "J"),
    (re.compile(r"ph|gh(?![aeiou])|th|v"), "f"),
    (re.compile(r"ck|q|c(?![eiy])|g(?![eiy])"), "k"),
    (re.compile(r"c(?=[eiy])|z|x"), "s"),
    (re.compile(r"b"), "p"),
    (re.compile(r"d"), "t"),
)
_VOWELS = re.compile(r"[aeiouyhw]")
_DOUBLES = re.compile(r"(.)\1+")


def sound_key(word: str) -> str:
    """A key that sounds-alike spellings share: 'privits'/'privates', 'toched'/'touched'."""
    word = word.lower()
    if not word.isalpha():
        return ""
    for pattern, sound in _SOUNDS:
        word = pattern.sub(sound, word)
    first, rest = word[0], _VOWELS.sub("", word[1:])
    return _DOUBLES.sub(r"\1", (first if first not in "aeiouyhw" else "A") + rest)


def one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) " + COMMON_WORDS_FILE.name)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    table = common_words_table()
    if args.check:
        if COMMON_WORDS_FILE.read_text(encoding="utf-8") != table:
            print(f"{COMMON_WORDS_FILE} is stale: run python -m pep_nlp.vocabulary")
            return 1
        return 0
    COMMON_WORDS_FILE.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
