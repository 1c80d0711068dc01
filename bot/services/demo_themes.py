"""Demo data for the themes page: enough children with sent answers for charts with bars.

`seed_theme_demo(session, school)` adds 40 made-up children (years 1 to 13) to the school,
each with a PEP meeting in the last few months and their answers to the three theme
questions already sent: a mix of the buttons, some typed answers and skips, and kinds of
help tagged by the real tagger (bot.services.tagging), so that most bars show a number and a
few show "fewer than 5". It does nothing if the school already has them (run it again
safely). Demo only: never on a real deployment's school.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import cycle

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Child, School
from bot.services.answers import record_answer, submit_voice
from bot.services.directory import add_child, add_pep
from bot.services.tagging import tags_for

ACTOR = "cli:seed-demo"
#: The demo children's first names (the first one marks the set as added).
NAMES = (
    "Ayla", "Bryn", "Cara", "Dev", "Elif", "Finn", "Gus", "Hana", "Ivo", "Jude",
    "Kit", "Lola", "Milo", "Nia", "Ola", "Pip", "Quinn", "Remy", "Suki", "Tam",
    "Uma", "Vic", "Wren", "Xan", "Yara", "Zac", "Alfie", "Bea", "Cody", "Dora",
    "Eli", "Faye", "Gio", "Hope", "Isla", "Joss", "Kai", "Lexi", "Max", "Noor",
)  # fmt: skip
YEARS = cycle((2, 4, 5, 6, 3, 8, 9, 10, 7, 11, 1, 12, 5, 9))
FEELINGS = cycle(("😀 Good", "😀 Good", "😐 OK", "🙁 Not great", "😀 Good", "😐 OK",
                  "😀 Good", "it's ok but maths is hard", "😐 OK", None))  # fmt: skip
ATTEND = cycle(("Yes", "For part of it", "Yes", "Not sure yet", "For part of it", "Yes",
                "No", "only the start", "Yes"))  # fmt: skip
HELP = cycle((
    "I would like a tutor for maths",
    "more help in class",
    "someone to talk to",
    "help with homework please",
    "a quiet space when it gets loud",
    "a tutor and help with homework",
    "more help in class with reading",
    "join a club at lunch",
    "someone to talk to when I'm sad",
    "a tutor please",
    "I don't know",
    "help in class and a homework club",
))  # fmt: skip


def seed_theme_demo(session: Session, school: School, today: date | None = None) -> int:
    """Add the demo children to `school` (once): how many were added (0 if already there)."""
    exists = session.scalar(
        select(Child.id).where(Child.school_id == school.id, Child.first_name == NAMES[0])
    )
    if exists is not None:
        return 0
    today = today or date.today()
    for i, name in enumerate(NAMES):
        child = add_child(session, school.name, name, next(YEARS), actor=ACTOR)
        pep = add_pep(session, child.id, today - timedelta(days=7 + 4 * i), actor=ACTOR)
        answers = {"feeling_now": next(FEELINGS), "meeting_attend": next(ATTEND)}
        if child.year_group >= 1:
            answers["help_wanted"] = next(HELP)
        for key, text in answers.items():
            tags = tags_for(text) if key == "help_wanted" and text else []
            record_answer(
                session, pep, key, text, "child", child.phase, skipped=text is None, tags=tags
            )
        submit_voice(session, pep)
        # Made-up children: no designated teacher is waiting to hear they sent their answers.
        pep.submitted_notice_sent_at = pep.submitted_at
    return len(NAMES)
