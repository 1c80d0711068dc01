"""Messages that are only a hello or a goodbye, whatever the classifier thought.

While a question is waiting, the classifier's greet/goodbye is not trusted to decide that a
message is not an answer ("saying bye to mum" is an answer; "Sam" is not a hello): these
plain patterns decide instead.
"""

from __future__ import annotations

import re

_END = r"[\s!.,👋😀🙂]*$"
_GREETING = re.compile(
    r"^\s*(hi+|hello+|hey+|hiya|heya|hullo|yo|howdy|good (morning|afternoon|evening)|morning)"
    r"( there| again| bot| pep voice)?" + _END,
    re.IGNORECASE,
)
_FAREWELL = re.compile(
    r"^\s*(bye+|goodbye|bye bye|bye for now|see (ya|you)( later| soon)?|cya|gtg|got to go|"
    r"gotta go|ttyl|laters)" + _END,
    re.IGNORECASE,
)


def is_only_greeting(text: str) -> bool:
    return _GREETING.match(text) is not None


def is_only_farewell(text: str) -> bool:
    return _FAREWELL.match(text) is not None


_ABOUT_PEP = re.compile(r"\b(pep|p\.e\.p|designated|dt|plan)\b", re.IGNORECASE)


def asks_about_pep(text: str) -> bool:
    """A request for help that mentions the PEP itself ("what's a PEP?", "who is my DT?")."""
    return _ABOUT_PEP.search(text) is not None
