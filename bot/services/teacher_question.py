"""The question a designated teacher sent back to the child, and whether it was answered.

`peps.returned_question/at` hold the latest question sent back (bot.services.review). The
child's reply is an ordinary answer under the key `teacher_question`, saved like every other
(screened first, verbatim, may be skipped). A reply answers the current question only if it
was given after the question was sent (`answers.updated_at >= peps.returned_at`): when the
teacher sends back a second question, the first reply is kept (and shown to staff as a reply
to an earlier question) but does not count as answering the new one, so the bot asks it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.models import Answer, Pep
from bot.questions import TEACHER_QUESTION

#: The most of the teacher's question the bot shows (bot.services.review keeps it shorter).
SHOWN_MAX = 500


def reply_of(answers: Iterable[Answer]) -> Answer | None:
    return next((a for a in answers if a.question_key == TEACHER_QUESTION), None)


def answers_current_question(pep: Pep, reply: Answer | None) -> bool:
    """Whether `reply` (the PEP's teacher_question answer, if any) was given to the question
    now sent back; False when no question is sent back."""
    if reply is None or pep.returned_at is None:
        return False
    return reply.updated_at >= pep.returned_at


def awaiting_reply(pep: Pep) -> bool:
    """A question is sent back and the child has not answered (or skipped) it yet."""
    return pep.returned_at is not None and not answers_current_question(pep, reply_of(pep.answers))


#: Bidirectional overrides and isolates: they could make the question read differently.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown_to_child(question: str) -> str:
    """The teacher's question as the chat shows it. The channels show plain text (the web
    chat sets textContent, Telegram has no parse mode), so nothing is escaped here; control
    characters (line breaks apart) and bidirectional overrides are dropped, and it is cut
    to SHOWN_MAX characters."""
    kept = "".join(
        ch
        for ch in question
        if ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI)
    ).strip()
    if len(kept) > SHOWN_MAX:
        kept = kept[: SHOWN_MAX - 1].rstrip() + "\u2026"
    return kept
