"""Who is answering: the child, the child with their carer's help, or the carer for them."""

from __future__ import annotations

import re

from bot.models import AnsweredBy

_CARER = re.compile(
    r"\b(carer|foster|mum|mam|mom|dad|nan|nana|gran|grandma|grandad|auntie|aunt|uncle|"
    r"key ?worker|grown.?up|adult|teacher)\b"
)
_WITH = re.compile(r"\b(with|help|helping|and|together|both)\b")
_ME = re.compile(r"\b(me|myself|i am|i'm|im|just me|only me)\b")


def answerer_from_text(text: str) -> AnsweredBy | None:
    """The choice behind a tapped button or typed words; None when it isn't clear."""
    words = text.lower().replace("\u2019", "'")
    carer = _CARER.search(words) is not None
    me = _ME.search(words) is not None
    if carer and (me or _WITH.search(words)) and "for me" not in words:
        return AnsweredBy.with_carer
    if carer:
        return AnsweredBy.carer
    if me:
        return AnsweredBy.child
    return None


#: Who is answering when a child skips the question: they are taken to answer alone.
ANSWERING_ALONE = AnsweredBy.child.value


def understood_answerer(value: object, words: str) -> str | None:
    """The "who's answering" answer: a value already understood is kept (a form re-validates
    its filled slots when it starts again); else read from the button tapped or the words."""
    if value in {a.value for a in AnsweredBy}:
        return str(value)
    choice = answerer_from_text(words)
    return choice.value if choice else None


def answerer_of(value: object) -> AnsweredBy:
    """Who gave the answer being saved, from the "who's answering" slot: the child alone when
    it was never answered or not understood."""
    known = {a.value: a for a in AnsweredBy}
    if isinstance(value, str) and value in known:
        return known[value]
    return answerer_from_text(str(value or "")) or AnsweredBy.child
