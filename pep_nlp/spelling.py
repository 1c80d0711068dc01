"""Read a child's misspelt word as the word they meant, before the intent classifier sees it.

"cant tink of anyfing" and "wot dose that meen" carry the same intent as their spelling; the
classifier learnt from the training data's words, so each unknown word becomes the most
likely known word one edit away (an insertion, deletion, substitution or swap), if any. Words
of the training data come first, the more frequent first, then common English words by how
common they are. Short
words and words already known are left alone. No Rasa, no app imports.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

_LETTERS = string.ascii_lowercase
_MIN_LENGTH = 3  # "ur", "u", "im": too short to guess, and text speak the data already has
#: A training word outranks any English word (log probabilities are all below zero), and a
#: more frequent training word a rarer one.
_TRAINING_WORD_SCORE = 1.0
_MAX_REMEMBERED = 50_000


@dataclass(frozen=True)
class SpellingCorrector:
    scores: Mapping[str, float]  # known word -> how much to prefer it
    _seen: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, training_words: Mapping[str, int], english: Mapping[str, float]
    ) -> SpellingCorrector:
        """`training_words`: each word of the training data with how often it occurs there
        ("skep" is "skip", which the data says often, not "step")."""
        scores = dict(english)
        scores.update((w, _TRAINING_WORD_SCORE + n) for w, n in training_words.items())
        return cls(scores)

    def correct(self, word: str) -> str:
        if word in self.scores or len(word) < _MIN_LENGTH or not word.isalpha():
            return word
        if word not in self._seen:
            candidates = [e for e in _one_edit(word) if e in self.scores]
            best = max(candidates, key=lambda e: (self.scores[e], e)) if candidates else word
            if len(self._seen) < _MAX_REMEMBERED:  # children's misspellings repeat
                self._seen[word] = best
            return best
        return self._seen[word]


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }
