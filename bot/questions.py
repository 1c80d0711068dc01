"""The reflection's questions: what is asked, in which order, of whom.

This is the one place that decides which questions a child is asked (by year group, and
whether their last PEP left hopes or support to follow up). The wording lives in the domain
(domain/pep_voice.yml) as `utter_ask_<key>` responses, with variants by phase; the rest of a
question's domain (its slot, its place in the form, `action_ask_<key>`, the `previous_<key>`
slot a follow-up quotes) is generated from this catalogue into domain/questions.yml.

How to add a question:
1. Add a `Question` to QUESTIONS below, where it is asked (key, section, label, year groups).
2. Run `make domain` to regenerate domain/questions.yml (`make test` fails while it is stale).
3. Write its wordings in domain/pep_voice.yml: utter_ask_<key>, utter_simpler_<key> ("help")
   and utter_example_<key> ("I don't know"), with a variant for every phase it is asked in.
4. `.venv/app/bin/pytest tests/data/test_domain.py` names any wording still missing; then retrain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.phases import Phase, phase_for_year


class Section(StrEnum):
    start = "start"
    looking_back = "looking_back"
    looking_forward = "looking_forward"
    support = "support"
    meeting = "meeting"


SECTION_TITLES = {
    Section.start: "Getting started",
    Section.looking_back: "Looking back",
    Section.looking_forward: "Looking forward",
    Section.support: "Help you'd like",
    Section.meeting: "Your meeting",
}

NURSERY, RECEPTION, YEAR_1, YEAR_3, YEAR_7, YEAR_9, YEAR_13 = -1, 0, 1, 3, 7, 9, 13


@dataclass(frozen=True)
class Question:
    key: str
    section: Section
    label: str  # how the summary and the teacher's review name the question
    min_year: int = NURSERY
    max_year: int = YEAR_13
    follows_up: str | None = None  # asked only if the last PEP has an answer to this key
    tags: bool = False  # tag school subjects and kinds of support in the answer
    # Asked only when the designated teacher sent the child's voice back with a question.
    returned_only: bool = False

    def asked_of(self, year_group: int, previous: Iterable[str], returned: bool = False) -> bool:
        if not self.min_year <= year_group <= self.max_year:
            return False
        if self.returned_only and not returned:
            return False
        return self.follows_up is None or self.follows_up in previous

    @property
    def phases(self) -> frozenset[Phase]:
        """The phases whose children can be asked this question (each needs its wordings)."""
        return frozenset(phase_for_year(y) for y in range(self.min_year, self.max_year + 1))


QUESTIONS: tuple[Question, ...] = (
    Question("answered_by", Section.start, "Who answered"),
    # First, so a child whose voice was sent back meets the teacher's question at once. Its
    # wording is the teacher's own (peps.returned_question), asked by actions/ask.py.
    Question(
        "teacher_question",
        Section.start,
        "My answer to my teacher's question",
        returned_only=True,
    ),
    Question("feeling_now", Section.start, "How I feel about school now"),
    Question(
        "followup_get_better_at",
        Section.looking_back,
        "How it went with what I wanted to get better at",
        follows_up="get_better_at",
    ),
    Question(
        "followup_help_wanted",
        Section.looking_back,
        "How it went with the help I asked for",
        follows_up="help_wanted",
    ),
    Question("going_well", Section.looking_back, "What's been going well"),
    Question("proud", Section.looking_back, "Something I'm proud of", min_year=YEAR_1),
    Question("hard", Section.looking_back, "What's been hard or tricky"),
    Question("lessons_enjoy", Section.looking_back, "Lessons I enjoy", min_year=YEAR_1, tags=True),
    Question(
        "lessons_hard", Section.looking_back, "Lessons I find hard", min_year=YEAR_1, tags=True
    ),
    Question("friends", Section.looking_back, "Friends and break times"),
    Question("attendance", Section.looking_back, "Coming to school", min_year=YEAR_7),
    Question("behaviour_support", Section.looking_back, "Help with behaviour", min_year=YEAR_7),
    Question(
        "get_better_at",
        Section.looking_forward,
        "What I'd like to get better at",
        min_year=YEAR_1,
        tags=True,
    ),
    Question("when_older", Section.looking_forward, "When I'm older", min_year=YEAR_3),
    Question("next_steps", Section.looking_forward, "My next steps", min_year=YEAR_9),
    Question("careers", Section.looking_forward, "Jobs and careers", min_year=YEAR_9),
    Question("helps_learn", Section.support, "What helps me learn"),
    Question("help_wanted", Section.support, "Help I'd like", min_year=YEAR_1, tags=True),
    Question("activities", Section.support, "Activities and hobbies"),
    Question("meeting_attend", Section.meeting, "Coming to my meeting", min_year=YEAR_1),
    Question("meeting_who", Section.meeting, "Who I'd like there", min_year=YEAR_1),
    Question(
        "meeting_say_for_me",
        Section.meeting,
        "What I'd like someone to say for me",
        min_year=YEAR_1,
    ),
    Question(
        "not_for_everyone",
        Section.meeting,
        "Not to be shared with everyone",
        min_year=YEAR_1,
    ),
)

BY_KEY = {q.key: q for q in QUESTIONS}
#: Keys whose answer is a choice recorded on each answer, not a child's-voice answer itself.
METADATA_KEYS = frozenset({"answered_by"})
#: The answer to the question the designated teacher sent back (bot.services.teacher_question).
TEACHER_QUESTION = "teacher_question"
#: Last time's answers that the next PEP follows up, in catalogue order. Each is quoted back
#: from its own slot, `previous_<key>` (previous_slot).
FOLLOWED_UP = tuple(dict.fromkeys(q.follows_up for q in QUESTIONS if q.follows_up))
#: Intents whose message is never an answer: the form fills no answer slot from them.
NOT_ANSWER_INTENTS = (
    "skip",
    "dont_know",
    "help",
    "stop",
    "bot_challenge",
    "change_answer",
    "safeguarding_concern",
    "start",
)
#: The responses each question needs, with a variant for every phase it is asked in: the form
#: asks with utter_ask_ (actions/ask.py), "help" answers with utter_simpler_ and "I don't know"
#: with utter_example_ (actions/control.py).
WORDING_PREFIXES = ("utter_ask_", "utter_simpler_", "utter_example_")


def previous_slot(key: str) -> str:
    """The slot holding the child's answer to `key` from their last PEP, for a follow-up."""
    return f"previous_{key}"


def questions_for(
    year_group: int, previous: Iterable[str] = (), *, returned: bool = False
) -> list[Question]:
    """The questions for a child in this year group, in the order they are asked.

    `returned`: the designated teacher sent the child's voice back with a question, so the
    teacher's question is among them (whether it still needs an answer is the store's to say).
    """
    previous = frozenset(previous)
    return [q for q in QUESTIONS if q.asked_of(year_group, previous, returned)]


def sections_for(questions: Iterable[Question]) -> list[Section]:
    seen: list[Section] = []
    for q in questions:
        if q.section not in seen:
            seen.append(q.section)
    return seen
