"""Adding and changing children and their PEP meetings, and importing them from a CSV file."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from bot import db
from bot.models import AuditEvent, Child, Pep
from bot.services.child_import import MAX_BYTES, uk_today
from bot.web.limits import limit_for
from tests.review.helpers import World, csrf_from, logged_in

XSS = "<script>alert(1)</script><b>x</b>"
HEADER = "first_name,year_group,meeting_date\n"


def soon(days: int = 30) -> date:
    return uk_today() + timedelta(days=days)


def children_of(school_id: int) -> list[tuple[str, int]]:
    with db.session_scope() as session:
        rows = session.execute(
            select(Child.first_name, Child.year_group)
            .where(Child.school_id == school_id)
            .order_by(Child.id)
        )
        return [(r.first_name, r.year_group) for r in rows]


def meetings_of(child_id: int) -> list[date]:
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(Pep.meeting_date).where(Pep.child_id == child_id).order_by(Pep.meeting_date)
            )
        )


def child_count() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(Child)) or 0


def pep_count() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(Pep)) or 0


def post_form(c: TestClient, page: str, action: str, **fields: str) -> Response:
    return c.post(action, data={"csrf": csrf_from(c.get(page).text), **fields})


def upload(c: TestClient, content: bytes | str, **fields: str) -> Response:
    data = content.encode() if isinstance(content, str) else content
    token = csrf_from(c.get("/review/children/import").text)
    return c.post(
        "/review/children/import",
        data={"csrf": token, **fields},
        files={"file": ("children.csv", data, "text/csv")},
    )


def confirm_fields(preview: str) -> dict[str, str]:
    form = preview[preview.index('action="/review/children/import/confirm"') :]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    return {k: html.unescape(v) for k, v in fields.items()}


def confirm(c: TestClient, fields: dict[str, str]) -> Response:
    # As a browser sends the confirm form: multipart.
    return c.post(
        "/review/children/import/confirm", files={k: (None, v) for k, v in fields.items()}
    )


# --- One child ------------------------------------------------------------------------------


def test_a_teacher_adds_a_child_with_a_meeting(world: World) -> None:
    c = logged_in(world.dt_a)
    form = c.get("/review/children/new")
    assert form.status_code == 200
    assert "Oak Primary" in form.text and 'name="school_id"' not in form.text
    meeting = soon()
    response = post_form(
        c, "/review/children/new", "/review/children/new",
        first_name="  Sam ", year_group="R", meeting_date=meeting.isoformat(),
    )  # fmt: skip
    assert response.status_code == 303, response.text
    assert children_of(world.school_a)[-1] == ("Sam", 0)
    location = response.headers["location"]
    child_id = int(location.split("/")[3])
    assert location == f"/review/children/{child_id}/edit?done=added"
    assert meetings_of(child_id) == [meeting]
    page = c.get(location)
    assert page.status_code == 200
    assert "Sam, Reception" in page.text and "The child has been added." in page.text
    assert f"{meeting.day} {meeting:%B %Y}" in page.text


def test_a_child_without_a_meeting_and_validation_messages(world: World) -> None:
    c = logged_in(world.dsl_a)
    before = child_count()
    response = post_form(
        c, "/review/children/new", "/review/children/new",
        first_name=" ", year_group="15", meeting_date=(uk_today() - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    assert response.status_code == 400
    assert "The first name is missing." in response.text
    assert "is not a year group" in response.text
    assert "is in the past" in response.text
    assert child_count() == before
    response = post_form(
        c, "/review/children/new", "/review/children/new", first_name="A" * 51, year_group="3"
    )
    assert response.status_code == 400
    assert "longer than 50 characters" in response.text
    response = post_form(
        c, "/review/children/new", "/review/children/new", first_name="Alex", year_group="N"
    )
    assert response.status_code == 303
    assert children_of(world.school_a)[-1] == ("Alex", -1)
    assert child_count() == before + 1


def test_an_admin_must_choose_the_school(world: World) -> None:
    c = logged_in(world.admin)
    form = c.get("/review/children/new")
    assert "Oak Primary" in form.text and "Ash Academy" in form.text
    response = post_form(
        c, "/review/children/new", "/review/children/new", first_name="Ola", year_group="7"
    )
    assert response.status_code == 400 and "Choose a school." in response.text
    response = post_form(
        c, "/review/children/new", "/review/children/new", first_name="Ola", year_group="7",
        school_id=str(world.school_a),
    )  # fmt: skip
    assert response.status_code == 303
    assert children_of(world.school_a)[-1] == ("Ola", 7)


def test_a_teacher_changes_a_childs_details(world: World) -> None:
    c = logged_in(world.dt_a)
    page = f"/review/children/{world.child_a}/edit"
    form = c.get(page)
    assert form.status_code == 200 and "Robin, Year 5" in form.text
    response = post_form(c, page, page, first_name="", year_group="5")
    assert response.status_code == 400 and "The first name is missing." in response.text
    response = post_form(c, page, page, first_name="Robin", year_group="Year 99")
    assert response.status_code == 400 and "is not a year group" in response.text
    assert children_of(world.school_a) == [("Robin", 5)]
    response = post_form(c, page, page, first_name="Robyn", year_group="6")
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=saved"
    assert children_of(world.school_a) == [("Robyn", 6)]
    assert "The changes have been saved." in c.get(response.headers["location"]).text


def test_meetings_are_added_once_a_date(world: World) -> None:
    c = logged_in(world.dt_a)
    page = f"/review/children/{world.child_a}/edit"
    action = f"/review/children/{world.child_a}/meetings"
    meeting = soon(40)
    before = meetings_of(world.child_a)
    response = post_form(c, page, action, meeting_date=meeting.strftime("%d/%m/%Y"))
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=meeting"
    assert meetings_of(world.child_a) == sorted([*before, meeting])
    again = post_form(c, page, action, meeting_date=meeting.isoformat())
    assert again.status_code == 400
    assert f"There is already a PEP meeting on {meeting.day} {meeting:%B %Y}." in again.text
    assert post_form(c, page, action, meeting_date="").status_code == 400
    past = post_form(c, page, action, meeting_date="2001-01-01")
    assert past.status_code == 400 and "is in the past" in past.text
    assert meetings_of(world.child_a) == sorted([*before, meeting])


def test_another_schools_child_is_not_found(world: World) -> None:
    c = logged_in(world.dt_a)
    token = csrf_from(c.get("/review/children/new").text)
    assert c.get(f"/review/children/{world.child_b}/edit").status_code == 404
    assert c.get("/review/children/999999/edit").status_code == 404
    edit = c.post(
        f"/review/children/{world.child_b}/edit",
        data={"csrf": token, "first_name": "Changed", "year_group": "5"},
    )
    assert edit.status_code == 404
    meeting = c.post(
        f"/review/children/{world.child_b}/meetings",
        data={"csrf": token, "meeting_date": soon().isoformat()},
    )
    assert meeting.status_code == 404
    assert children_of(world.school_b) == [("Kai", 9)]
    assert meetings_of(world.child_b) == [date(2030, 1, 16)]


def test_the_virtual_school_cannot_add_or_change(world: World) -> None:
    c = logged_in(world.vs)
    token = csrf_from(c.get("/review").text)
    before = (child_count(), pep_count())
    for path in ("/review/children/new", "/review/children/import",
                 f"/review/children/{world.child_a}/edit"):  # fmt: skip
        assert c.get(path).status_code == 403
    posts = [
        ("/review/children/new", {"first_name": "Sam", "year_group": "5"}),
        (f"/review/children/{world.child_a}/edit", {"first_name": "X", "year_group": "5"}),
        (f"/review/children/{world.child_b}/edit", {"first_name": "X", "year_group": "5"}),
        (f"/review/children/{world.child_a}/meetings", {"meeting_date": soon().isoformat()}),
        ("/review/children/import/confirm", {"content": HEADER + "Sam,5,\n",
                                             "school_id": str(world.school_a)}),
    ]  # fmt: skip
    for path, fields in posts:
        response = c.post(path, data={"csrf": token, **fields})
        assert response.status_code == 403, path
        assert "can read these records but not change them" in response.text
    response = c.post(
        "/review/children/import",
        data={"csrf": token, "school_id": str(world.school_a)},
        files={"file": ("children.csv", (HEADER + "Sam,5,\n").encode(), "text/csv")},
    )
    assert response.status_code == 403
    assert (child_count(), pep_count()) == before


def test_every_post_needs_the_forms_token(world: World) -> None:
    c = logged_in(world.dt_a)
    before = (child_count(), pep_count(), children_of(world.school_a))
    posts = [
        ("/review/children/new", {"first_name": "Sam", "year_group": "5"}),
        (f"/review/children/{world.child_a}/edit", {"first_name": "X", "year_group": "5"}),
        (f"/review/children/{world.child_a}/meetings", {"meeting_date": soon().isoformat()}),
        ("/review/children/import/confirm", {"content": HEADER + "Sam,5,\n"}),
    ]
    other = logged_in(world.dsl_a)
    stolen = csrf_from(other.get("/review").text)
    for path, fields in posts:
        for extra in ({}, {"csrf": "nonsense"}, {"csrf": stolen}):
            assert c.post(path, data={**fields, **extra}).status_code == 403, path
    response = c.post(
        "/review/children/import",
        files={"file": ("children.csv", (HEADER + "Sam,5,\n").encode(), "text/csv")},
    )
    assert response.status_code == 403
    assert (child_count(), pep_count(), children_of(world.school_a)) == before


def test_names_are_shown_as_text(world: World) -> None:
    c = logged_in(world.dt_a)
    response = post_form(
        c, "/review/children/new", "/review/children/new", first_name=XSS, year_group="5"
    )
    assert response.status_code == 303
    for page in (response.headers["location"], "/review"):
        text = c.get(page).text
        assert XSS not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in text
    preview = upload(c, HEADER + f'"{XSS}",5,\n"{XSS}",99,\n')
    assert preview.status_code == 400
    assert XSS not in preview.text and "&lt;script&gt;" in preview.text


# --- A file ---------------------------------------------------------------------------------


def test_a_good_file_is_previewed_then_imported(world: World) -> None:
    c = logged_in(world.dt_a)
    meeting = soon(20)
    before = (child_count(), pep_count())
    preview = upload(c, HEADER + f"Zoë,Y3,{meeting.isoformat()}\nAmir,R,\n")
    assert preview.status_code == 200, preview.text
    assert "Ready to add <strong>2 children and 1 meeting</strong>" in preview.text
    assert "Zoë" in preview.text and "Reception" in preview.text
    assert (child_count(), pep_count()) == before  # nothing yet
    response = confirm(c, confirm_fields(preview.text))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/review/children/import?added=2&meetings=1"
    assert "2 children and 1 meeting added." in c.get(response.headers["location"]).text
    assert children_of(world.school_a)[-2:] == [("Zoë", 3), ("Amir", 0)]
    assert (child_count(), pep_count()) == (before[0] + 2, before[1] + 1)


def test_a_file_with_a_bom_and_uk_dates(world: World) -> None:
    c = logged_in(world.dsl_a)
    meeting = soon(10)
    data = (
        "\ufeff".encode()
        + (f"first_name,year_group,meeting_date\r\nKit,Y11,{meeting:%d/%m/%Y}\r\n").encode()
    )
    preview = upload(c, data)
    assert preview.status_code == 200, preview.text
    assert confirm(c, confirm_fields(preview.text)).status_code == 303
    kit = children_of(world.school_a)[-1]
    assert kit == ("Kit", 11)
    with db.session_scope() as session:
        kit_id = session.scalar(select(func.max(Child.id)).where(Child.school_id == world.school_a))
    assert meetings_of(kit_id or 0) == [meeting]


def test_any_bad_row_imports_nothing_and_names_the_rows(world: World) -> None:
    c = logged_in(world.dt_a)
    before = (child_count(), pep_count())
    preview = upload(
        c, HEADER + f"Good,5,{soon().isoformat()}\n,5,\nBad,Y20,\nGood,5,{soon():%d/%m/%Y}\n"
    )
    assert preview.status_code == 400
    assert "Nothing has been imported" in preview.text
    assert "<strong>Row 3:</strong> The first name is missing." in preview.text
    assert "<strong>Row 4:</strong> “Y20” is not a year group" in preview.text
    assert "<strong>Row 5:</strong> The same as row 2." in preview.text
    assert "/review/children/import/confirm" not in preview.text
    # A confirm form changed by hand is checked again in full: still nothing.
    response = confirm(
        c, {"csrf": csrf_from(preview.text), "content": HEADER + "Good,5,\n,5,\n",
            "school_id": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Nothing has been imported" in response.text and "Row 3:" in response.text
    assert (child_count(), pep_count()) == before


def test_a_teacher_imports_into_their_own_school_and_an_admin_chooses(world: World) -> None:
    c = logged_in(world.dt_a)
    preview = upload(c, HEADER + "Noor,5,\n", school_id=str(world.school_b))
    fields = confirm_fields(preview.text)
    fields["school_id"] = str(world.school_b)  # ignored: a teacher adds to their own school
    assert confirm(c, fields).status_code == 303
    assert children_of(world.school_a)[-1] == ("Noor", 5)
    assert children_of(world.school_b) == [("Kai", 9)]
    admin = logged_in(world.admin)
    refused = upload(admin, HEADER + "Ines,5,\n")
    assert refused.status_code == 400 and "Choose a school." in refused.text
    preview = upload(admin, HEADER + "Ines,5,\n", school_id=str(world.school_b))
    assert preview.status_code == 200 and "Ash Academy" in preview.text
    assert confirm(admin, confirm_fields(preview.text)).status_code == 303
    assert children_of(world.school_b) == [("Kai", 9), ("Ines", 5)]


def test_oversize_files_are_refused(world: World) -> None:
    c = logged_in(world.dt_a)
    before = child_count()
    big = HEADER + "Robin,5," + " " * MAX_BYTES + "\n"
    response = upload(c, big)
    assert response.status_code == 400 and "bigger than 200 KB" in response.text
    huge = HEADER + "Robin,5," + " " * (300 * 1024) + "\n"
    assert upload(c, huge).status_code == 413
    assert upload(c, b"").status_code == 400
    assert child_count() == before


def test_the_size_limits(world: World) -> None:
    assert limit_for("/review/children/import") == 256 * 1024
    assert limit_for("/review/children/import/confirm") == 256 * 1024
    assert limit_for("/review/children/new") == 16 * 1024
    assert limit_for("/review/login") >= 4 * 1024  # the login form still fits
    c = logged_in(world.dt_a)  # (logs in through the form)
    assert c.get("/review").status_code == 200


def test_the_audit_has_counts_and_ids_never_names(world: World) -> None:
    c = logged_in(world.dt_a)
    post_form(c, "/review/children/new", "/review/children/new", first_name="Quinn",
              year_group="4", meeting_date=soon().isoformat())  # fmt: skip
    page = f"/review/children/{world.child_a}/edit"
    assert post_form(c, page, page, first_name="Rowan", year_group="5").status_code == 303
    preview = upload(c, HEADER + "Wren,2,\nIvy,3,\n")
    assert confirm(c, confirm_fields(preview.text)).status_code == 303
    with db.session_scope() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [e.action for e in events]
        details = {e.action: e.detail for e in events}
        everything = json.dumps([[e.action, e.detail] for e in events])
    for name in ("Quinn", "Rowan", "Robin", "Wren", "Ivy"):
        assert name not in everything
    assert {"child.added", "child.created", "pep.created", "child.edited",
            "child.details_changed", "children.import_previewed",
            "children.imported"} <= set(actions)  # fmt: skip
    assert details["children.imported"]["children"] == 2
    assert details["children.imported"]["meetings"] == 0
    assert details["children.import_previewed"]["rows"] == 2
    assert details["child.details_changed"]["fields"] == ["first_name"]


def test_the_home_page_links_here(world: World) -> None:
    teacher = logged_in(world.dt_a).get("/review").text
    assert 'href="/review/children/new"' in teacher
    assert 'href="/review/children/import"' in teacher
    assert f'href="/review/children/{world.child_a}/edit"' in teacher
    virtual_school = logged_in(world.vs).get("/review").text
    assert "/review/children/new" not in virtual_school


def test_the_preview_warns_of_children_already_at_the_school(world: World) -> None:
    c = logged_in(world.dt_a)
    preview = upload(c, HEADER + "Noor,4,\nrobin,Y5,\n")
    assert preview.status_code == 200
    assert "Row 3 has" in preview.text and "already at Oak Primary" in preview.text
    fresh = upload(c, HEADER + "Noor,4,\nKai,9,\n")  # Kai is at another school
    assert "already at" not in fresh.text
