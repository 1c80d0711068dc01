"""The child's voice review page: one PEP's answers, the teacher's wording, comments,
approve, send back with a question, history, downloads.

    GET  /review/peps/{pep_id}                              the page (pep.viewed)
    POST /review/peps/{pep_id}/answers/{answer_id}/wording  the teacher's wording (pep.edited)
    POST /review/peps/{pep_id}/comments                     add a comment
    POST /review/peps/{pep_id}/approve                      approve (a submitted PEP only)
    POST /review/peps/{pep_id}/return                       send back with a question
    GET  /review/peps/{pep_id}/export.{pdf,docx,txt,json}   download (pep.exported)

Scoped through bot.services.scope: another school's PEP is a 404 on every route, and the
Virtual School (read-only) gets a 403 on every POST. The child's words are shown verbatim and
always escaped (Jinja2 autoescape); the services (bot.services.review) never change them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bot.models import Pep
from bot.review.auth import Staff, check_csrf
from bot.review.routes import ReviewRoute, render, year_name
from bot.services import review, voice_export
from bot.services.scope import StaffContext, pep_or_404, pep_or_404_unaudited, transaction
from bot.services.voice_document import UK, build_voice_document, long_date

router = APIRouter(prefix="/review", route_class=ReviewRoute)

#: Download extensions and the export format each gives.
EXPORTS: Final[dict[str, str]] = {"pdf": "pdf", "docx": "docx", "txt": "text", "json": "json"}
EXPORT_NAMES: Final[dict[str, str]] = {
    "pdf": "PDF",
    "docx": "Word (DOCX)",
    "txt": "Plain text for an ePEP form",
    "json": "JSON",
}
#: What a page says after a form worked (`?done=...`).
DONE: Final[dict[str, str]] = {
    "wording": "Your wording is saved. The child's own words are unchanged.",
    "unchanged": "The wording was already like that: nothing changed.",
    "comment": "Your comment is added.",
    "approved": "The child's voice is approved.",
    "returned": (
        "Sent back. The bot will ask the child your question first, next time they talk to it."
    ),
}


def when(moment: datetime) -> str:
    """ "14 March 2030 at 10:05" in England."""
    local = moment.astimezone(UK)
    return f"{long_date(local.date())} at {local:%H:%M}"


def _page(
    request: Request, ctx: StaffContext, session: Session, pep: Pep, *, done: str | None = None,
    error: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    doc = build_voice_document(session, pep.id)
    answer_ids = review.answer_ids(session, pep)
    context: dict[str, Any] = {
        "pep": pep,
        "doc": doc,
        "child": pep.child,
        "year": year_name(pep.child.year_group),
        "meeting": long_date(pep.meeting_date),
        "status": review.status_label(pep),
        "submitted": pep.status.value == "submitted",
        # Approve and send back: once the child sent it, or while it is sent back.
        "can_decide": review.can_decide(pep),
        "question_answered": review.question_answered(pep),
        "answer_ids": answer_ids,
        "comments": review.comments(session, pep),
        "history": review.history(session, pep),
        "exports": EXPORT_NAMES,
        "done": DONE.get(done or ""),
        "error": error,
        "when": when,
        "long_date": long_date,
        "limits": {
            "wording": review.WORDING_MAX,
            "comment": review.COMMENT_MAX,
            "question": review.QUESTION_MAX,
        },
    }
    return render(request, "review/voice_pep.html", ctx, status_code, **context)


def _back(pep_id: int, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/review/peps/{pep_id}?done={done}{anchor}", status_code=303)


@router.get("/peps/{pep_id}", response_class=HTMLResponse)
def voice_page(request: Request, ctx: Staff, pep_id: int, done: str | None = None) -> Response:
    with transaction(ctx) as session:
        pep = pep_or_404(session, ctx, pep_id)
        return _page(request, ctx, session, pep, done=done)


Editor = Annotated[StaffContext, Depends(check_csrf)]


@router.post("/peps/{pep_id}/answers/{answer_id}/wording", response_class=HTMLResponse)
def save_wording(
    request: Request, ctx: Editor, pep_id: int, answer_id: int,
    wording: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    with transaction(ctx) as session:
        pep = pep_or_404(session, ctx, pep_id, purpose="edit")
        answer = review.editable_answer(session, pep, answer_id)
        try:
            changed = review.set_teacher_wording(session, answer, wording, ctx.staff_id)
        except review.ReviewError as refusal:
            return _page(request, ctx, session, pep, error=refusal.message, status_code=400)
    return _back(pep_id, "wording" if changed else "unchanged", f"#answer-{answer_id}")


def _edit_pep(
    request: Request,
    ctx: StaffContext,
    pep_id: int,
    act: Callable[[Session, Pep], object],
    notice: str,
    anchor: str = "",
) -> Response:
    """One review action on a PEP: done and back to the page, or the page with why not."""
    with transaction(ctx) as session:
        pep = pep_or_404(session, ctx, pep_id, purpose="edit")
        try:
            act(session, pep)
        except review.ReviewError as refusal:
            return _page(request, ctx, session, pep, error=refusal.message, status_code=400)
    return _back(pep_id, notice, anchor)


@router.post("/peps/{pep_id}/comments", response_class=HTMLResponse)
def save_comment(
    request: Request, ctx: Editor, pep_id: int, comment: Annotated[str, Form()] = ""
) -> Response:
    return _edit_pep(
        request,
        ctx,
        pep_id,
        lambda session, pep: review.add_comment(session, pep, comment, ctx.staff_id),
        "comment",
        "#comments",
    )


@router.post("/peps/{pep_id}/approve", response_class=HTMLResponse)
def approve(request: Request, ctx: Editor, pep_id: int) -> Response:
    return _edit_pep(
        request,
        ctx,
        pep_id,
        lambda session, pep: review.approve(session, pep, ctx.staff_id),
        "approved",
    )


@router.post("/peps/{pep_id}/return", response_class=HTMLResponse)
def send_back(
    request: Request, ctx: Editor, pep_id: int, question: Annotated[str, Form()] = ""
) -> Response:
    return _edit_pep(
        request,
        ctx,
        pep_id,
        lambda session, pep: review.return_to_child(session, pep, question, ctx.staff_id),
        "returned",
    )


@router.get("/peps/{pep_id}/export.{ext}")
def download(ctx: Staff, pep_id: int, ext: str) -> Response:
    fmt = EXPORTS.get(ext)
    with transaction(ctx) as session:
        pep = pep_or_404_unaudited(session, ctx, pep_id)
        if fmt is None:
            raise HTTPException(404, "Not found")
        doc = build_voice_document(session, pep.id)
    # Laid out with the database let go: a PDF takes a good part of a second, and on SQLite
    # every transaction holds the write lock that children's answers wait for
    # (tests/review/test_reads_while_writing.py).
    content = voice_export.render(doc, fmt)
    with transaction(ctx) as session:
        # pep.exported: the format and counts, never words. Nothing is sent unless recorded.
        voice_export.record_export(session, doc, ctx.actor, fmt)
    return Response(
        content,
        media_type=voice_export.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{voice_export.filename(doc, fmt)}"',
            "Cache-Control": "no-store",
        },
    )
