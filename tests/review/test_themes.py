"""Anonymous themes across children: counts of children, small ones hidden, scoped, charted."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.domain_text import responses
from bot.models import AuditEvent, Pep, Role
from bot.services.answers import record_answer, submit_voice
from bot.services.dashboard import uk_today
from bot.services.directory import add_child, add_pep
from bot.services.scope import StaffContext, peps_query
from bot.services.tagging import tags_for
from bot.services.themes import (
    ATTEND_CHOICES,
    FEELING_CHOICES,
    HIDDEN,
    OWN_WORDS,
    SKIPPED,
    UNDER_FIVE,
    Cell,
    Period,
    choice_label,
    period_bounds,
    suppress,
    themes_for,
)
from tests.review.helpers import World, logged_in

SVG_NS = "{http://www.w3.org/2000/svg}"
SECRET_WORDS = "Gloamingtide <script>alert('x')</script> pineapple"

# --- Suppression (pure) ---------------------------------------------------------------------


def _texts(cells: tuple[Cell, ...]) -> dict[str, str]:
    return {cell.label: cell.text for cell in cells}


def test_four_is_fewer_than_five_and_five_is_shown() -> None:
    cells = suppress([("Tutoring", 4), ("Clubs", 5), ("Help in class", 0)], partition=False)
    assert _texts(cells) == {"Tutoring": UNDER_FIVE, "Clubs": "5", "Help in class": "0"}
    assert cells[0].count is None  # the hidden figure is not kept at all


def test_one_is_fewer_than_five() -> None:
    assert _texts(suppress([("a", 1), ("b", 9)], partition=False))["a"] == UNDER_FIVE


def test_no_small_count_no_hiding() -> None:
    assert _texts(suppress([("a", 0), ("b", 5), ("c", 12)], partition=True)) == {
        "a": "0", "b": "5", "c": "12",
    }  # fmt: skip


def _possible(cells: tuple[Cell, ...], total: int) -> list[set[int]]:
    """What someone who knows the group's total can tell of each hidden cell: every value
    consistent with the shown figures, "fewer than 5" meaning 0 to 4 (1 to 4 when it is the
    only one: something in the group was from 1 to 4) and "hidden" 5 or more."""
    hidden = [i for i, c in enumerate(cells) if c.count is None]
    rest = total - sum(c.count or 0 for c in cells)
    lone = sum(c.note == UNDER_FIVE for c in cells) == 1
    ranges = [
        range(1 if lone else 0, 5) if cells[i].note == UNDER_FIVE else range(5, rest + 1)
        for i in hidden
    ]
    possible: list[set[int]] = [set() for _ in hidden]
    for values in itertools.product(*ranges):
        if sum(values) == rest:
            for seen, value in zip(possible, values, strict=True):
                seen.add(value)
    return possible


def test_a_single_hidden_cell_that_a_total_would_give_away_takes_another_with_it() -> None:
    counts = [
        ("Yes", 7), ("For part of it", 8), ("No", 3), ("Not sure yet", 6),
        (OWN_WORDS, 9), (SKIPPED, 10),
    ]  # fmt: skip
    total = sum(n for _, n in counts)
    # Without the second cell: the total minus the shown figures is the hidden one.
    alone = suppress(counts, partition=False)
    assert [c.label for c in alone if c.count is None] == ["No"]
    assert _possible(alone, total) == [{3}]
    cells = suppress(counts, partition=True)
    assert _texts(cells) == {
        "Yes": "7", "For part of it": "8", "No": UNDER_FIVE, "Not sure yet": HIDDEN,
        OWN_WORDS: "9", SKIPPED: "10",
    }  # fmt: skip
    no, not_sure = _possible(cells, total)
    assert len(no) > 1 and 3 in no
    assert len(not_sure) > 1 and 6 in not_sure


def test_all_hidden_cells_at_four_take_another_with_them() -> None:
    counts = [("Good", 4), ("OK", 4), ("Not great", 9), (OWN_WORDS, 7), (SKIPPED, 5)]
    cells = suppress(counts, partition=True)
    assert _texts(cells)[SKIPPED] == HIDDEN  # the smallest other
    for values in _possible(cells, sum(n for _, n in counts)):
        assert len(values) > 1


def test_a_lone_one_beside_a_hidden_five_takes_a_third_with_them() -> None:
    counts = [("Yes", 1), ("For part of it", 5), ("No", 6), ("Not sure yet", 9)]
    cells = suppress(counts, partition=True)
    assert [c.text for c in cells] == [UNDER_FIVE, HIDDEN, HIDDEN, "9"]
    assert all(len(values) > 1 for values in _possible(cells, 21))


def test_no_hidden_figure_can_be_worked_out_from_a_total() -> None:
    """Every group of 5 cells of 0 to 8 children with something from 1 to 4 in it."""
    for counts in itertools.product(range(0, 9, 2), range(0, 9, 3), (1, 4, 5), (0, 5, 8), (6,)):
        group = [(f"cell {i}", n) for i, n in enumerate(counts)]
        cells = suppress(group, partition=True)
        if all(c.count is None for c in cells):
            continue  # nothing shown: nothing to subtract from
        for values in _possible(cells, sum(counts)):
            assert len(values) > 1, (counts, [c.text for c in cells])


def test_zeros_beside_a_small_count_are_hidden_where_a_total_may_be_known() -> None:
    # "All three said Good" must not be readable off the zeros.
    counts = [("Good", 3), ("OK", 0), ("Not great", 0), (OWN_WORDS, 0), (SKIPPED, 0)]
    cells = suppress(counts, partition=True)
    assert all(c.text == UNDER_FIVE for c in cells)
    assert all(len(values) > 1 for values in _possible(cells, 3))


# --- The buttons ----------------------------------------------------------------------------


def _buttons(question_key: str) -> set[str]:
    titles: set[str] = set()
    found = 0
    for name, variants in responses().items():
        if name.endswith(f"_{question_key}") and name.startswith("utter_"):
            for variant in variants:
                found += 1
                titles |= {b["title"] for b in variant.get("buttons", [])}
    assert found, question_key
    return titles


def test_the_choices_are_the_buttons_of_every_variant() -> None:
    assert _buttons("feeling_now") == set(FEELING_CHOICES)
    assert _buttons("meeting_attend") == set(ATTEND_CHOICES)


@pytest.mark.parametrize(
    ("text", "skipped", "label"),
    [
        ("😀 Good", False, "Good"),
        ("good", False, "Good"),
        ("Good!", False, "Good"),
        ("🙁 Not great", False, "Not great"),
        ("pretty good most days", False, OWN_WORDS),
        (None, True, SKIPPED),
    ],
)
def test_an_answer_is_a_button_or_their_own_words(
    text: str | None, skipped: bool, label: str
) -> None:
    assert choice_label(text, skipped, FEELING_CHOICES) == label


def test_periods() -> None:
    assert period_bounds(Period.school_year, date(2026, 12, 2)) == (
        date(2026, 9, 1), date(2027, 8, 31),
    )  # fmt: skip
    assert period_bounds(Period.school_year, date(2027, 3, 1))[0] == date(2026, 9, 1)
    assert period_bounds(Period.last_12_months, date(2028, 2, 29)) == (date(2027, 2, 28), None)
    assert period_bounds(Period.all_time, date(2026, 1, 1)) == (None, None)


# --- From the database ----------------------------------------------------------------------


@dataclass
class Answers:
    feeling: str | None = "😀 Good"
    attend: str | None = "Yes"
    help: str | None = "I would like a tutor"


def _child(
    school: str, name: str, year: int, answers: Answers, *, submit: bool = True,
    meeting: date | None = None,
) -> int:  # fmt: skip
    with db.session_scope() as session:
        child = add_child(session, school, name, year)
        pep = add_pep(session, child.id, meeting or uk_today() - timedelta(days=20))
        for key, text in (
            ("feeling_now", answers.feeling), ("meeting_attend", answers.attend),
            ("help_wanted", answers.help),
        ):  # fmt: skip
            record_answer(
                session, pep, key, text, "child", child.phase, skipped=text is None,
                tags=tags_for(text) if key == "help_wanted" and text else (),
            )  # fmt: skip
        if submit:
            submit_voice(session, pep)
        return child.id


@pytest.fixture
def children(world: World) -> None:
    """Oak Primary (A), Year 5: 5 Good, 4 OK, one in their own words; 5 ask for a tutor,
    2 for homework help; one child's older PEP said Not great (only the latest counts); 5
    more not sent yet (Not great: never counted). Ash Academy (B), Year 9: 6 Not great."""
    for i in range(5):
        _child("Oak Primary", f"Good{i}", 5, Answers())
    for i in range(4):
        _child("Oak Primary", f"Ok{i}", 5, Answers("😐 OK", "No", "help with homework please"))
    _child("Oak Primary", "Words", 5, Answers(SECRET_WORDS, SECRET_WORDS, SECRET_WORDS))
    for i in range(5):
        _child("Oak Primary", f"Draft{i}", 5, Answers("🙁 Not great", "No"), submit=False)
    for i in range(6):
        _child("Ash Academy", f"Ash{i}", 9, Answers("🙁 Not great", "For part of it"))
    # Good0's earlier PEP: counted only in place of the later one, never as well.
    with db.session_scope() as session:
        good0 = session.scalar(select(Pep).join(Pep.child).where(Pep.child.has(first_name="Good0")))
        assert good0 is not None
        old = add_pep(session, good0.child_id, uk_today() - timedelta(days=200))
        record_answer(session, old, "feeling_now", "🙁 Not great", "child", "ks1_2")
        submit_voice(session, old)


def _figures(ctx: StaffContext, period: Period = Period.last_12_months) -> dict[str, dict]:
    with db.session_scope() as session:
        themes = themes_for(session, peps_query(ctx), period=period, today=uk_today())
    return {
        name: {group.title: _texts(group.cells) for group in theme.groups}
        for name, theme in themes.items()
    }


PRIMARY, SECONDARY = "Primary (years 1 to 6)", "Secondary (years 7 to 11)"


def test_a_designated_teacher_counts_their_own_school_only(world: World, children: None) -> None:
    figures = _figures(world.dt_a.ctx)
    assert figures["feelings"][PRIMARY] == {
        "Good": "5", "OK": UNDER_FIVE, "Not great": UNDER_FIVE, OWN_WORDS: UNDER_FIVE,
        SKIPPED: UNDER_FIVE,
    }  # fmt: skip
    # Ash Academy's six Year 9 children are not theirs.
    assert set(figures["feelings"][SECONDARY].values()) == {"0"}
    support = figures["support"][None]
    assert support["Tutoring"] == "5" and support["Help with homework"] == UNDER_FIVE
    assert support["Clubs"] == "0"
    assert figures["attendance"][None]["For part of it"] == UNDER_FIVE  # the zero beside a 4


def test_the_virtual_school_counts_every_school(world: World, children: None) -> None:
    figures = _figures(world.vs.ctx)
    assert figures["feelings"][SECONDARY]["Not great"] == "6"
    assert figures["feelings"][PRIMARY]["Good"] == "5"
    assert figures["attendance"][None]["For part of it"] == "6"


def test_only_sent_answers_count_and_the_period_is_by_meeting_date(world: World) -> None:
    for i in range(5):
        _child("Oak Primary", f"Sent{i}", 5, Answers())
        _child("Oak Primary", f"Open{i}", 5, Answers("😐 OK"), submit=False)
        _child("Oak Primary", f"Old{i}", 5, Answers("🙁 Not great"),
               meeting=uk_today() - timedelta(days=800))  # fmt: skip
    recent = _figures(world.vs.ctx)["feelings"][PRIMARY]
    assert recent["Good"] == "5" and recent["OK"] == "0" and recent["Not great"] == "0"
    ever = _figures(world.vs.ctx, Period.all_time)["feelings"][PRIMARY]
    assert ever["Good"] == "5" and ever["OK"] == "0" and ever["Not great"] == "5"


# --- The page and the charts ----------------------------------------------------------------


def _svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG_NS}text")]


def test_the_charts_never_draw_a_hidden_number(world: World, children: None) -> None:
    c = logged_in(world.dt_a)
    for name in ("support", "feelings", "attendance"):
        response = c.get(f"/review/themes/{name}.svg")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        texts = _svg_texts(response.content)
        numbers = {t for t in texts if t.isdigit()}
        # Shown: 5 (Good, Tutoring, Yes) and 0; hidden: 4 (OK, homework, No), 1 (own words).
        assert not numbers & {"1", "2", "3", "4"}, (name, numbers)
        assert SECRET_WORDS not in response.text and "Gloamingtide" not in response.text
        assert " style=" not in response.text and "<style" not in response.text  # CSP
        assert c.get(f"/review/themes/{name}.svg").content == response.content  # the same
    feelings = _svg_texts(c.get("/review/themes/feelings.svg").content)
    assert "5" in feelings and UNDER_FIVE in feelings and PRIMARY in feelings


def _table_cells(page: str, theme: str) -> list[str]:
    section = page.split(f'id="theme-{theme}"', 1)[1].split("</table>", 1)[0]
    body = section.split("<tbody>", 1)[1]
    return [cell.split(">", 1)[1].split("</td>", 1)[0] for cell in body.split("<td")[1:]]


def test_the_page_has_the_same_figures_and_never_a_child_s_words(
    world: World, children: None
) -> None:
    page = logged_in(world.dt_a).get("/review/themes")
    assert page.status_code == 200
    html = page.text
    assert "Gloamingtide" not in html and "pineapple" not in html and "alert(" not in html
    for name in ("Good0", "Ok0", "Words", "Robin"):
        assert name not in html
    assert '<img class="theme-chart" src="/review/themes/feelings.svg?period=12m"' in html
    assert _table_cells(html, "attendance") == ["5", UNDER_FIVE, UNDER_FIVE, UNDER_FIVE,
                                                UNDER_FIVE, UNDER_FIVE]  # fmt: skip
    feelings = _table_cells(html, "feelings")
    assert feelings[5:10] == ["5", UNDER_FIVE, UNDER_FIVE, UNDER_FIVE, UNDER_FIVE]  # Primary
    assert "Oak Primary" in html and "All schools" not in html


def test_the_virtual_school_may_choose_a_school(world: World, children: None) -> None:
    c = logged_in(world.vs)
    everyone = c.get("/review/themes").text
    assert "All schools" in everyone and 'name="school"' in everyone
    assert _table_cells(everyone, "attendance")[1] == "6"
    only_a = c.get(f"/review/themes?school={world.school_a}&period=year").text
    assert _table_cells(only_a, "attendance")[1] == UNDER_FIVE
    assert f'feelings.svg?period=year&amp;school={world.school_a}"' in only_a
    assert c.get("/review/themes?school=999999").status_code == 404
    assert c.get("/review/themes?school=x").status_code == 404


def test_another_school_is_a_404_for_a_teacher(world: World, children: None) -> None:
    c = logged_in(world.dt_a)
    assert c.get(f"/review/themes?school={world.school_b}").status_code == 404
    assert c.get(f"/review/themes/support.svg?school={world.school_b}").status_code == 404
    assert c.get(f"/review/themes?school={world.school_a}").status_code == 200
    assert 'name="school"' not in c.get("/review/themes").text
    assert c.get("/review/themes/nothing.svg").status_code == 404
    assert c.get("/review/themes?period=forever").status_code == 422


def test_viewing_themes_is_audited_without_counts(world: World, children: None) -> None:
    c = logged_in(world.vs)
    c.get("/review/themes")
    c.get("/review/themes/support.svg?period=all")
    with db.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "themes.viewed").order_by(AuditEvent.id)
        ).all()
        details = [(e.actor, e.detail) for e in events]
    actor = f"staff:{world.vs.ctx.staff_id}"
    assert [(a, d["view"], d["period"]) for a, d in details] == [
        (actor, "page", "12m"), (actor, "support", "all"),
    ]  # fmt: skip
    assert all(set(d) <= {"staff_id", "role", "view", "period", "school_asked"} for _, d in details)


def test_the_themes_link_is_in_the_top_bar(world: World) -> None:
    for staff in (world.dt_a, world.dsl_a, world.vs, world.admin):
        assert '<a href="/review/themes">Themes</a>' in logged_in(staff).get("/review").text
    assert world.vs.ctx.role == Role.virtual_school
