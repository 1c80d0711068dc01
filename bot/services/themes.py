"""Anonymous themes across children for the Virtual School: counts of children, suppressed.

Three themes, each counted in CHILDREN (never answers), from each child's latest submitted
PEP (by meeting date) in the period asked for, so a child is counted once per theme however
many PEPs they had:

- support: the kinds of help wanted (the `support:<id>` tags of `help_wanted` answers; a
  child may name several kinds, so these counts do not add up to anything);
- feelings: how they feel about school (`feeling_now`), in each phase (the answer's own
  `phase`): the three buttons, "In their own words" for anything typed, "Skipped";
- attendance: whether they want to come to their meeting (`meeting_attend`): the four
  buttons, "In their own words", "Skipped".

Only PEPs the child has sent to school (status `submitted`) count: answers in progress may
still change. The caller passes the scoped PEP query (`bot.services.scope.peps_query(ctx)`), so
a designated teacher or DSL counts only their own school's children.

Suppression (what `suppress` does; nothing here returns a hidden figure):
1. A count from 1 to 4 is shown as "fewer than 5" (0 may be shown as 0).
2. No totals are shown anywhere: no group total, no "all phases" or "all kinds" figure.
3. In a group where each child is counted once (one phase's feelings; attendance), a total
   may be known elsewhere (a designated teacher knows how many of their children sent their
   answers). So when such a group has a count under 5, every count under 5 in it, 0 too,
   shows "fewer than 5" (so that "all three said Good" cannot be read off the zeros), and
   while a hidden figure could still be worked out from the total (one hidden cell alone;
   every hidden cell at 4; a lone 1 beside a hidden 5), the smallest other cell is hidden
   too ("hidden", meaning 5 or more).
This stops a hidden count being worked out from a total by subtraction and the labels; it
is not a full statistical disclosure control method (someone who knows the rule can still
narrow a hidden figure to a range), so figures need the usual checks before publication.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select
from sqlalchemy.orm import Session

from bot.models import Answer, Child, Pep, PepStatus
from bot.phases import Phase
from bot.services.directory import get_school
from bot.services.scope import OutOfScope, StaffContext, peps_query
from pep_nlp.pipeline import load_entity_patterns

SUPPRESS_BELOW = 5
UNDER_FIVE = "fewer than 5"
HIDDEN = "hidden"

FEELING_KEY, ATTEND_KEY, HELP_KEY = "feeling_now", "meeting_attend", "help_wanted"
THEME_KEYS = (HELP_KEY, FEELING_KEY, ATTEND_KEY)

#: The buttons of utter_ask_feeling_now (every variant) and utter_simpler_feeling_now.
FEELING_CHOICES = ("😀 Good", "😐 OK", "🙁 Not great")
#: The buttons of utter_ask_meeting_attend and utter_simpler_meeting_attend.
ATTEND_CHOICES = ("Yes", "For part of it", "No", "Not sure yet")
OWN_WORDS = "In their own words"
SKIPPED = "Skipped"
NO_KIND = "Answered, none of these named"

PHASE_LABELS = {
    Phase.early_years: "Early years (nursery and reception)",
    Phase.ks1_2: "Primary (years 1 to 6)",
    Phase.ks3_4: "Secondary (years 7 to 11)",
    Phase.post_16: "Post-16 (years 12 and 13)",
}
SUPPORT_LABELS = {
    "help_in_class": "Help in class",
    "tutoring": "Tutoring",
    "homework_help": "Help with homework",
    "someone_to_talk_to": "Someone to talk to",
    "friendships": "Help with friendships",
    "clubs": "Clubs",
    "moving_school": "Help with moving school",
    "calm_space": "A calm or quiet space",
}
SUPPORT_PREFIX = "support:"


class Period(enum.StrEnum):
    """Which PEPs count, by their meeting date (UK)."""

    last_12_months = "12m"
    school_year = "year"
    all_time = "all"


def period_bounds(period: Period, today: date) -> tuple[date | None, date | None]:
    """The first and last meeting dates that count (None: no bound). The last 12 months
    include upcoming meetings whose answers are already sent; a school year runs from
    1 September to 31 August."""
    if period == Period.last_12_months:
        try:
            return today.replace(year=today.year - 1), None
        except ValueError:  # 29 February
            return today.replace(year=today.year - 1, day=28), None
    if period == Period.school_year:
        start_year = today.year if today.month >= 9 else today.year - 1
        return date(start_year, 9, 1), date(start_year + 1, 8, 31)
    return None, None


#: The period's name in the form's list (`period_label` says which dates, under the title).
PERIOD_NAMES = {
    Period.last_12_months: "Last 12 months",
    Period.school_year: "This school year",
    Period.all_time: "All time",
}


def period_label(period: Period, today: date) -> str:
    start, end = period_bounds(period, today)
    if start is None:
        return "All time"
    if end is None:
        return f"Last 12 months (meetings from {start:%-d %B %Y}, and upcoming ones)"
    return f"This school year ({start:%-d %B %Y} to {end:%-d %B %Y})"


# --- Loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeAnswer:
    """One answer as the themes need it. The text is only compared with the buttons."""

    child_id: int
    question_key: str
    phase: str
    text: str | None
    skipped: bool
    tags: tuple[str, ...]


def _filtered(peps: Select[Pep], period: Period, today: date, school_id: int | None) -> Select[Pep]:
    start, end = period_bounds(period, today)
    query = peps.where(Pep.status == PepStatus.submitted)
    if start is not None:
        query = query.where(Pep.meeting_date >= start)
    if end is not None:
        query = query.where(Pep.meeting_date <= end)
    if school_id is not None:
        query = query.where(Child.school_id == school_id)
    return query


def load_theme_answers(
    session: Session, peps: Select[Pep], *, period: Period, today: date,
    school_id: int | None = None,
) -> list[ThemeAnswer]:  # fmt: skip
    """The answers to the three theme questions from each child's latest submitted PEP in
    the period. `peps` must be scoped (bot.services.scope.peps_query): it joins Child."""
    query = _filtered(peps, period, today, school_id)
    latest: dict[int, tuple[date, int]] = {}
    for pep_id, child_id, meeting in session.execute(
        query.with_only_columns(Pep.id, Pep.child_id, Pep.meeting_date)
    ):
        if child_id not in latest or (meeting, pep_id) > latest[child_id]:
            latest[child_id] = (meeting, pep_id)
    chosen = {pep_id for _, pep_id in latest.values()}
    rows = session.execute(
        query.join(Answer, Answer.pep_id == Pep.id)
        .where(Answer.question_key.in_(THEME_KEYS))
        .with_only_columns(
            Answer.pep_id,
            Pep.child_id,
            Answer.question_key,
            Answer.phase,
            Answer.text,
            Answer.skipped,
            Answer.tags,
        )
    )
    return [
        ThemeAnswer(child_id, key, phase, text, skipped, tuple(tags or ()))
        for pep_id, child_id, key, phase, text, skipped, tags in rows
        if pep_id in chosen
    ]


# --- Counting (pure) -------------------------------------------------------------------------

_DECORATION = re.compile(r"^[^\w]+|[\s.!]+$")


def _plain(text: str) -> str:
    """A typed button word counts as the button: "😀 Good", "good" and "Good!" read "good"."""
    return _DECORATION.sub("", text.strip()).casefold()


def choice_label(text: str | None, skipped: bool, choices: Sequence[str]) -> str:
    """The button an answer is (its label without the face), OWN_WORDS or SKIPPED."""
    if skipped or text is None:
        return SKIPPED
    plain = _plain(text)
    for choice in choices:
        if text == choice or plain == _plain(choice):
            return _plain_label(choice)
    return OWN_WORDS


def _plain_label(choice: str) -> str:
    return _DECORATION.sub("", choice.strip())


def choice_labels(choices: Sequence[str]) -> list[str]:
    return [_plain_label(c) for c in choices] + [OWN_WORDS, SKIPPED]


def _count_children(
    pairs: Iterable[tuple[str, int]], labels: Sequence[str]
) -> list[tuple[str, int]]:
    children: dict[str, set[int]] = {label: set() for label in labels}
    for label, child_id in pairs:
        children.setdefault(label, set()).add(child_id)
    return [(label, len(ids)) for label, ids in children.items()]


def support_kinds() -> list[str]:
    """The kinds of support the tagger knows (pep_nlp's patterns), in their file's order."""
    kinds: list[str] = []
    for pattern in load_entity_patterns():
        kind = pattern.get("id")
        if pattern.get("label") == "SUPPORT" and isinstance(kind, str) and kind not in kinds:
            kinds.append(kind)
    return kinds


def support_label(kind: str) -> str:
    return SUPPORT_LABELS.get(kind, kind.replace("_", " ").capitalize())


def support_counts(answers: Iterable[ThemeAnswer]) -> list[tuple[str, int]]:
    """Children per kind of help wanted (one child may want several), then those who
    answered without naming a known kind."""
    kinds = support_kinds()
    pairs: list[tuple[str, int]] = []
    for a in answers:
        if a.question_key != HELP_KEY or a.skipped or a.text is None:
            continue
        named = [t.removeprefix(SUPPORT_PREFIX) for t in a.tags if t.startswith(SUPPORT_PREFIX)]
        known = [kind for kind in named if kind in kinds]
        pairs += [(support_label(kind), a.child_id) for kind in known]
        if not known:
            pairs.append((NO_KIND, a.child_id))
    return _count_children(pairs, [support_label(k) for k in kinds] + [NO_KIND])


def feeling_counts(answers: Iterable[ThemeAnswer]) -> dict[Phase, list[tuple[str, int]]]:
    """Children per feeling, in each phase (every phase, so an empty one shows zeros)."""
    by_phase: dict[Phase, list[tuple[str, int]]] = {phase: [] for phase in Phase}
    for a in answers:
        if a.question_key == FEELING_KEY and a.phase in by_phase:
            label = choice_label(a.text, a.skipped, FEELING_CHOICES)
            by_phase[Phase(a.phase)].append((label, a.child_id))
    labels = choice_labels(FEELING_CHOICES)
    return {phase: _count_children(pairs, labels) for phase, pairs in by_phase.items()}


def attendance_counts(answers: Iterable[ThemeAnswer]) -> list[tuple[str, int]]:
    pairs = [
        (choice_label(a.text, a.skipped, ATTEND_CHOICES), a.child_id)
        for a in answers
        if a.question_key == ATTEND_KEY
    ]
    return _count_children(pairs, choice_labels(ATTEND_CHOICES))


# --- Suppression (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure as it may be shown: `count` is None when hidden, and `note` says why."""

    label: str
    count: int | None
    note: str | None = None

    @property
    def text(self) -> str:
        return self.note if self.count is None and self.note else str(self.count)


def suppress(counts: Sequence[tuple[str, int]], *, partition: bool) -> tuple[Cell, ...]:
    """The rules in the module's docstring. `partition`: each child is in one cell, so the
    group's total may be known elsewhere."""
    values = [count for _, count in counts]
    under = {i for i, n in enumerate(values) if 1 <= n < SUPPRESS_BELOW}
    hidden: dict[int, str] = dict.fromkeys(under, UNDER_FIVE)
    if under and partition:
        hidden.update({i: UNDER_FIVE for i, n in enumerate(values) if n == 0})
        while _worked_out(values, hidden):
            others = [i for i in range(len(values)) if i not in hidden]
            if not others:
                break
            hidden[min(others, key=lambda i: (values[i], i))] = HIDDEN
    return tuple(
        Cell(label, None, hidden[i]) if i in hidden else Cell(label, count)
        for i, (label, count) in enumerate(counts)
    )


def _worked_out(values: Sequence[int], hidden: dict[int, str]) -> bool:
    """Whether someone who knows the group's total (so the hidden cells' sum) can tell one
    hidden cell's exact figure: "fewer than 5" is 0 to 4 (1 to 4 if it is the only one, as
    a hidden group has a count from 1 to 4), "hidden" is 5 or more."""
    lone = sum(note == UNDER_FIVE for note in hidden.values()) == 1
    bounds = {
        i: ((1 if lone else 0), SUPPRESS_BELOW - 1) if note == UNDER_FIVE
        else (SUPPRESS_BELOW, None)
        for i, note in hidden.items()
    }  # fmt: skip
    total = sum(values[i] for i in hidden)
    for i, (low, high) in bounds.items():
        others = [b for j, b in bounds.items() if j != i]
        others_high = [h for _, h in others]
        least = low if None in others_high else max(low, total - sum(h or 0 for h in others_high))
        most = total - sum(lo for lo, _ in others)
        if high is not None:
            most = min(high, most)
        if least == most:
            return True
    return False


# --- The themes, ready to show ---------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    title: str | None
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    counted: str  # what one count is, for the table's heading
    groups: tuple[Group, ...]


THEME_NAMES = ("support", "feelings", "attendance")


def build_themes(answers: Sequence[ThemeAnswer]) -> dict[str, Theme]:
    """The three themes, suppressed: nothing in them is a hidden count."""
    feelings = feeling_counts(answers)
    return {
        "support": Theme(
            "support", "Help children would like, by kind", "Children who asked for it",
            (Group(None, suppress(support_counts(answers), partition=False)),),
        ),
        "feelings": Theme(
            "feelings", "How children feel about school, by phase", "Children",
            tuple(
                Group(PHASE_LABELS[phase], suppress(counts, partition=True))
                for phase, counts in feelings.items()
            ),
        ),
        "attendance": Theme(
            "attendance", "Coming to their PEP meeting", "Children",
            (Group(None, suppress(attendance_counts(answers), partition=True)),),
        ),
    }  # fmt: skip


def themes_for(
    session: Session, peps: Select[Pep], *, period: Period, today: date,
    school_id: int | None = None,
) -> dict[str, Theme]:  # fmt: skip
    answers = load_theme_answers(session, peps, period=period, today=today, school_id=school_id)
    return build_themes(answers)


def school_asked(session: Session, ctx: StaffContext, school_id: int) -> int | None:
    """The one school `ctx` asked to see themes for, if they may (else OutOfScope): the
    Virtual School and admins any school; others only their own, which changes nothing
    (None: their scope already is that school)."""
    if ctx.all_schools:
        if get_school(session, school_id) is None:
            raise OutOfScope("themes_school", school_id)
        return school_id
    if school_id != ctx.school_id:
        raise OutOfScope("themes_school", school_id)
    return None


def themes_seen_by(
    session: Session, ctx: StaffContext, *, period: Period, today: date,
    school_id: int | None = None,
) -> dict[str, Theme]:  # fmt: skip
    """The themes of the PEPs `ctx` may see (bot.services.scope), perhaps of one school."""
    return themes_for(session, peps_query(ctx), period=period, today=today, school_id=school_id)
