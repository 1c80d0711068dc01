"""A child's short replies to the bot's own offers, read by their words, not the classifier.

- To "Are you telling me that someone is hurting you...?": yes, no, or neither.
- To "Would you like to carry on with the questions, or stop for now?": a typed "carry on".

Read by its first word, not by the classifier: "no im safe" and "no nobody is hurting me"
sound like disclosures to a classifier, and reading them as a yes would alert a DSL about a
child who said they were fine.
"""

from __future__ import annotations

import re

_FIRST_WORD = re.compile(r"[a-z0-9']+|\S")
_NO = frozenset(
    {"no", "nah", "nope", "n", "na", "noo", "nooo", "nop", "naa", "not", "never", "nothing",
     "nobody", "noone", "👎", "❌", "✖", "🙅"}
)  # fmt: skip
_YES = frozenset(
    {"yes", "yeah", "yea", "yeh", "yh", "ye", "yep", "yup", "y", "yess", "yesss", "yas", "aye",
     "ok", "okay", "k", "kk", "sure", "correct", "right", "true", "👍", "✅", "✔", "mhm"}
)  # fmt: skip


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the reply is neither (or both)."""
    words = _FIRST_WORD.findall(text.lower().replace("\u2019", "'"))
    if not words:
        return None
    first = re.sub(r"(.)\1{2,}", r"\1\1", words[0].strip("'"))
    if first in _NO:
        return False
    if first in _YES:
        return True
    return None


# The "carry on" button's title typed, and the ways children say it ("cary on plz").
_CARRY_ON_CORES = (("carry", "on"), ("cary", "on"), ("carrie", "on"), ("go", "on"),
                   ("keep", "going"), ("continue",), ("contine",), ("continu",))  # fmt: skip
_CARRY_ON_EXTRA = frozenset(
    {"yes", "yeah", "ok", "okay", "please", "pls", "plz", "lets", "let's", "i", "want", "to",
     "with", "the", "questions", "can", "we", "and", "now", "ill", "i'll"}
)  # fmt: skip


def carries_on(text: str) -> bool:
    """Whether a short message says only "carry on" (never a message with more in it)."""
    words = [w.strip("'") for w in _FIRST_WORD.findall(text.lower().replace("\u2019", "'"))]
    words = [w for w in words if w.isalnum() or "'" in w]
    if not 1 <= len(words) <= 8:
        return False
    for core in _CARRY_ON_CORES:
        for start in range(len(words) - len(core) + 1):
            if tuple(words[start : start + len(core)]) == core:
                rest = words[:start] + words[start + len(core) :]
                return all(w in _CARRY_ON_EXTRA for w in rest)
    return False


def says_more(reply: str) -> bool:
    """A reply to the check with more in it than a yes ("yes he hit me again"): it is passed
    on too. A tapped button (a "/..." payload) never says more."""
    return not reply.startswith("/") and len(reply.split()) >= 3
