"""Which of the bot's replies touch safeguarding, so the web chat never shows them twice.

A disclosure is shown to the child once, live, and is never kept in the transcript that
`/chat/api/history` serves: on a shared device the next person to open the page must not
read it. The replies are recognised by their text, read from the domain's responses (the
engine's REST channel sends text, not the response name), with the disclosure response's
opening words as a fallback should the domain change its wording.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from bot.domain_text import response_texts

#: The child told the bot something a safeguarding lead must know: the turn is not kept.
DISCLOSURE_RESPONSES = (
    "utter_disclosure_response",
    "utter_disclosure_followup",
    "utter_disclosure_already",
)
#: The bot asks whether the child's last message was a disclosure: that message is not kept.
CHECK_RESPONSES = ("utter_check_disclosure", "utter_check_disclosure_again")
DISCLOSURE_OPENING = "Thank you for telling me"


def _texts(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(text for name in names for text in response_texts(name))


@lru_cache(maxsize=1)
def _domain_texts() -> tuple[frozenset[str], frozenset[str]]:
    try:
        return _texts(DISCLOSURE_RESPONSES), _texts(CHECK_RESPONSES)
    except (OSError, yaml.YAMLError):
        return frozenset(), frozenset()


def is_disclosure_response(text: str) -> bool:
    text = text.strip()
    return text.startswith(DISCLOSURE_OPENING) or text in _domain_texts()[0]


def is_disclosure_check(text: str) -> bool:
    return text.strip() in _domain_texts()[1]
