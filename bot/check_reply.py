"""A child's reply to "Are you telling me that someone is hurting you...?": yes, no, or neither.

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
