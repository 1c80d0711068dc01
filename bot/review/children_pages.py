"""Adding and changing children and their PEP meetings, one by one or from a CSV file.

- GET/POST /review/children/new: a child's first name and year group (and a first meeting);
- GET/POST /review/children/{id}/edit: change the first name or year group; the meetings;
- POST /review/children/{id}/meetings: add a PEP meeting (not on a date the child has one);
- GET/POST /review/children/import: upload a CSV file, then a preview of its rows and of
  every bad row (row number and reason); POST /review/children/import/confirm adds them all,
  or nothing if anything is wrong (the preview's rows come back in a hidden field and are
  checked again in full).

Designated teachers and safeguarding leads add to their own school; an admin chooses the
school. The Virtual School reads only: 403. Audited with ids and counts, never names.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.models import Child, School
from bot.review.auth import Staff, check_csrf
from bot.review.routes import ReviewRoute, render, year_name
from bot.services.child_import import (
    MAX_BYTES,
    MAX_ROWS,
    ParsedFile,
    check_first_name,
    check_meeting_date,
    check_year_group,
    import_rows,
    parse_csv,
    uk_today,
)
from bot.services.child_records import (
    add_child_as,
    already_here,
    change_child,
    meeting_taken,
    meetings_of,
    own_school,
    school_choices,
    school_to_add_to,
)
from bot.services.directory import MAX_FIRST_NAME_CHARS, add_pep
from bot.services.scope import ReadOnly, StaffContext, audit, child_or_404, transaction

router = APIRouter(prefix="/review", route_class=ReviewRoute)

IMPORT_PATH = "/review/children/import"
#: The year groups a form offers: (value, label).
YEAR_CHOICES = [("N", "Nursery"), ("R", "Reception")] + [
    (str(y), f"Year {y}") for y in range(1, 14)
]
DONE_MESSAGES = {
    "added": "The child has been added.",
    "saved": "The changes have been saved.",
    "meeting": "The PEP meeting has been added.",
}
CHOOSE_SCHOOL = "Choose a school."
NO_FILE = "Choose a CSV file to upload."
CHANGED_SINCE_PREVIEW = (
    "Nothing has been imported: the file's rows could not be checked again. "
    "Please upload the file again."
)


def editor(ctx: Staff) -> StaffContext:
    """Staff who may change records: the Virtual School is read-only (403)."""
    if ctx.read_only:
        raise ReadOnly()
    return ctx


Editor = Annotated[StaffContext, Depends(editor)]


def long_date(value: date) -> str:
    """A date as people write it: 15 January 2030."""
    return f"{value.day} {value:%B %Y}"


def plural(count: int, one: str, many: str) -> str:
    """For example 1 child, 2 children, no meetings."""
    return f"{count or 'no'} {one if count == 1 else many}"


def _school_field(session: Session, ctx: StaffContext) -> dict[str, Any]:
    """What children_school_field.html needs: an admin picks a school; others see theirs."""
    school = own_school(session, ctx)
    schools = [{"id": id_, "name": name} for id_, name in school_choices(session, ctx)]
    return {"schools": schools, "school_name": school.name if school else None}


# --- Adding one child -----------------------------------------------------------------------


def _new_form(
    request: Request, session: Session, ctx: StaffContext, status_code: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "review/children_new.html", ctx, status_code, **_school_field(session, ctx),
        years=YEAR_CHOICES, max_name=MAX_FIRST_NAME_CHARS,
        **{"errors": {}, "values": {}, **context},
    )  # fmt: skip


@router.get("/children/new", response_class=HTMLResponse)
def new_child_form(request: Request, ctx: Editor) -> Response:
    with transaction(ctx) as session:
        return _new_form(request, session, ctx)


@router.post("/children/new", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def new_child_submit(
    request: Request,
    ctx: Editor,
    first_name: Annotated[str, Form()] = "",
    year_group: Annotated[str, Form()] = "",
    meeting_date: Annotated[str, Form()] = "",
    school_id: Annotated[str, Form()] = "",
) -> Response:
    name, name_error = check_first_name(first_name)
    year, year_error = check_year_group(year_group)
    meeting, date_error = check_meeting_date(meeting_date, uk_today())
    with transaction(ctx) as session:
        school = school_to_add_to(session, ctx, school_id)
        errors = {
            key: message
            for key, message in (
                ("school_id", None if school else CHOOSE_SCHOOL),
                ("first_name", name_error),
                ("year_group", year_error),
                ("meeting_date", date_error),
            )
            if message
        }
        if errors or school is None:
            values = {
                "first_name": first_name[: MAX_FIRST_NAME_CHARS * 2],
                "year_group": year_group, "meeting_date": meeting_date[:20],
                "school_id": school_id,
            }  # fmt: skip
            return _new_form(request, session, ctx, 400, errors=errors, values=values)
        child_id = add_child_as(session, ctx, school, name, year, meeting).id
    return RedirectResponse(f"/review/children/{child_id}/edit?done=added", status_code=303)


# --- Changing a child and their meetings ----------------------------------------------------


def _edit_page(
    request: Request, session: Session, ctx: StaffContext, child: Child, status_code: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    meetings = [
        {"id": p.id, "date": long_date(p.meeting_date), "status": p.status.value}
        for p in meetings_of(session, ctx, child)
    ]
    context.setdefault("values", {"first_name": child.first_name, "year_group": _year_value(child)})
    context.setdefault("errors", {})
    return render(
        request, "review/children_edit.html", ctx, status_code, child=child,
        year=year_name(child.year_group), meetings=meetings, years=YEAR_CHOICES,
        max_name=MAX_FIRST_NAME_CHARS, school_name=child.school.name, **context,
    )  # fmt: skip


def _year_value(child: Child) -> str:
    return {-1: "N", 0: "R"}.get(child.year_group, str(child.year_group))


@router.get("/children/{child_id}/edit", response_class=HTMLResponse)
def edit_child_form(request: Request, ctx: Editor, child_id: int, done: str = "") -> Response:
    with transaction(ctx) as session:
        child = child_or_404(session, ctx, child_id)
        return _edit_page(request, session, ctx, child, notice=DONE_MESSAGES.get(done))


@router.post(
    "/children/{child_id}/edit", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
def edit_child_submit(
    request: Request,
    ctx: Editor,
    child_id: int,
    first_name: Annotated[str, Form()] = "",
    year_group: Annotated[str, Form()] = "",
) -> Response:
    name, name_error = check_first_name(first_name)
    year, year_error = check_year_group(year_group)
    errors = {
        key: message
        for key, message in (("first_name", name_error), ("year_group", year_error))
        if message
    }
    with transaction(ctx) as session:
        if errors:
            child = child_or_404(session, ctx, child_id)
            values = {
                "first_name": first_name[: MAX_FIRST_NAME_CHARS * 2], "year_group": year_group
            }  # fmt: skip
            return _edit_page(request, session, ctx, child, 400, errors=errors, values=values)
        change_child(session, ctx, child_id, name, year)
    return RedirectResponse(f"/review/children/{child_id}/edit?done=saved", status_code=303)


@router.post(
    "/children/{child_id}/meetings", response_class=HTMLResponse,
    dependencies=[Depends(check_csrf)],
)  # fmt: skip
def add_meeting(
    request: Request, ctx: Editor, child_id: int, meeting_date: Annotated[str, Form()] = ""
) -> Response:
    meeting, error = check_meeting_date(meeting_date, uk_today())
    if meeting is None and error is None:
        error = "Enter the date of the PEP meeting."
    with transaction(ctx) as session:
        if meeting is not None and meeting_taken(session, ctx, child_id, meeting):
            error = f"There is already a PEP meeting on {long_date(meeting)}."
        if error is not None or meeting is None:
            child = child_or_404(session, ctx, child_id)
            return _edit_page(
                request, session, ctx, child, 400, meeting_error=error,
                meeting_value=meeting_date[:20],
            )  # fmt: skip
        child = child_or_404(session, ctx, child_id, purpose="edit")
        add_pep(session, child.id, meeting, actor=ctx.actor)
    return RedirectResponse(f"/review/children/{child_id}/edit?done=meeting", status_code=303)


# --- Importing a file -----------------------------------------------------------------------


def _import_form(
    request: Request, session: Session, ctx: StaffContext, status_code: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "review/children_import.html", ctx, status_code, **_school_field(session, ctx),
        max_rows=MAX_ROWS, max_kb=MAX_BYTES // 1024, **{"errors": {}, **context},
    )  # fmt: skip


def _preview(
    request: Request, ctx: StaffContext, school: School, parsed: ParsedFile,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    rows = [
        {"row": r.row, "first_name": r.first_name, "year": year_name(r.year_group),
         "meeting": long_date(r.meeting_date) if r.meeting_date else ""}
        for r in parsed.rows
    ]  # fmt: skip
    return render(
        request, "review/children_import_preview.html", ctx, 200 if parsed.ok else 400,
        parsed=parsed, rows=rows, school=school,
        summary=f"{plural(len(parsed.rows), 'child', 'children')} and "
        f"{plural(parsed.meetings, 'meeting', 'meetings')}",
        content=parsed.canonical_csv() if parsed.ok else "", **context,
    )  # fmt: skip


def _count(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= 4 else None


@router.get("/children/import", response_class=HTMLResponse)
def import_form(request: Request, ctx: Editor, added: str = "", meetings: str = "") -> Response:
    children_added, meetings_added = _count(added), _count(meetings)
    notice = None
    if children_added is not None and meetings_added is not None:
        notice = (
            f"{plural(children_added, 'child', 'children')} and "
            f"{plural(meetings_added, 'meeting', 'meetings')} added."
        )
    with transaction(ctx) as session:
        return _import_form(request, session, ctx, notice=notice)


@router.post("/children/import", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def import_upload(
    request: Request,
    ctx: Editor,
    file: Annotated[UploadFile | None, File()] = None,
    school_id: Annotated[str, Form()] = "",
) -> Response:
    data = file.file.read(MAX_BYTES + 1) if file is not None else b""
    with transaction(ctx) as session:
        school = school_to_add_to(session, ctx, school_id)
        errors = {}
        if school is None:
            errors["school_id"] = CHOOSE_SCHOOL
        if file is None or (not file.filename and not data):
            errors["file"] = NO_FILE
        if errors or school is None:
            return _import_form(request, session, ctx, 400, errors=errors, chosen=school_id)
        parsed = parse_csv(data, today=uk_today())
        audit(
            session, ctx, "children.import_previewed", school_id=school.id,
            rows=len(parsed.rows), bad_rows=len(parsed.problems),
            file_refused=parsed.file_problem is not None,
        )  # fmt: skip
        return _preview(
            request, ctx, school, parsed, already_here=already_here(session, ctx, school, parsed)
        )


@router.post(
    "/children/import/confirm", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
def import_confirm(
    request: Request,
    ctx: Editor,
    content: Annotated[str, Form()] = "",
    school_id: Annotated[str, Form()] = "",
) -> Response:
    # The rows come back as the preview showed them, and are checked again in full: a
    # changed or out-of-date form imports nothing.
    parsed = parse_csv(content, today=uk_today())
    with transaction(ctx) as session:
        school = school_to_add_to(session, ctx, school_id)
        if school is None:
            return _import_form(request, session, ctx, 400, errors={"school_id": CHOOSE_SCHOOL})
        if not parsed.ok:
            audit(
                session, ctx, "children.import_refused", school_id=school.id,
                bad_rows=len(parsed.problems),
            )  # fmt: skip
            return _preview(request, ctx, school, parsed, refused=CHANGED_SINCE_PREVIEW)
        result = import_rows(
            session, school.id, parsed, actor=ctx.actor, staff_id=ctx.staff_id,
            role=ctx.role.value,
        )  # fmt: skip
    return RedirectResponse(
        f"{IMPORT_PATH}?added={result.children}&meetings={result.meetings}", status_code=303
    )
