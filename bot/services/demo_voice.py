"""A demo child whose reflection is already answered and sent, for `seed-demo`.

A newcomer who logs in to the review app sees a real child's voice at once, without first
playing the child in the chat. The words read like a Year 5 child's (a few misspellings
kept, as the bot keeps them). Everything here is invented.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AnsweredBy, Child, Pep
from bot.phases import phase_for_year
from bot.services import directory
from bot.services.answers import record_answer, submit_voice
from bot.services.tagging import tags_for

DEMO_ANSWERED_CHILD, DEMO_ANSWERED_YEAR = "Robin", 5
DEMO_ANSWERED_MEETING_IN_DAYS = 10

#: question key -> (words, who answered); None words = the child skipped the question.
DEMO_ANSWERS: dict[str, tuple[str | None, AnsweredBy]] = {
    "feeling_now": ("😐 OK", AnsweredBy.child),
    "going_well": ("i got moved up in reading and i read a hole chapter book", AnsweredBy.child),
    "proud": ("my space project we made a rocket out of boxes", AnsweredBy.child),
    "hard": ("times tables and when its noisy in class i cant think", AnsweredBy.child),
    "lessons_enjoy": ("art and science", AnsweredBy.child),
    "lessons_hard": ("maths espeshly fractions", AnsweredBy.child),
    "friends": (None, AnsweredBy.child),
    "get_better_at": ("my times tables so i dont need my fingers", AnsweredBy.child),
    "when_older": ("a vet or a footballer", AnsweredBy.child),
    "helps_learn": ("when mrs ahmed sits with me and shows me one more time", AnsweredBy.child),
    "help_wanted": ("a quiet place to work and a tutor for maths", AnsweredBy.with_carer),
    "activities": ("football club on tuesdays", AnsweredBy.child),
    "meeting_attend": ("For part of it", AnsweredBy.child),
    "meeting_who": ("my carer jo and mrs ahmed", AnsweredBy.child),
    "meeting_say_for_me": ("that i want to stay at this school", AnsweredBy.with_carer),
    "not_for_everyone": ("no", AnsweredBy.child),
}

TAGGED = frozenset({"lessons_enjoy", "lessons_hard", "get_better_at", "help_wanted"})


def seed_answered_child(session: Session, school_name: str, *, actor: str) -> Pep | None:
    """Robin's submitted child's voice at `school_name`, once; None if it already exists."""
    school = directory.find_school(session, school_name)
    if school is None:
        raise ValueError(f"no school called {school_name!r}")
    exists = session.scalar(
        select(Child.id).where(
            Child.school_id == school.id, Child.first_name == DEMO_ANSWERED_CHILD
        )
    )
    if exists is not None:
        return None
    child = directory.add_child(
        session, school_name, DEMO_ANSWERED_CHILD, DEMO_ANSWERED_YEAR, actor=actor
    )
    meeting = date.today() + timedelta(days=DEMO_ANSWERED_MEETING_IN_DAYS)
    pep = directory.add_pep(session, child.id, meeting, actor=actor)
    phase = phase_for_year(DEMO_ANSWERED_YEAR)
    for key, (words, by) in DEMO_ANSWERS.items():
        tags = tags_for(words) if words and key in TAGGED else []
        record_answer(session, pep, key, words, by, phase, skipped=words is None, tags=tags)
    submit_voice(session, pep)
    return pep
