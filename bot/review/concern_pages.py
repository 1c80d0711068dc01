"""Safeguarding concerns in the review app: the list, one concern, the DSL's acknowledgement.

- GET /review/concerns: the concerns the member of staff may know of (bot.services.access's rule,
  through bot.services.scope), open ones first, then newest first. Never the words.
- GET /review/concerns/{id}: the summary; for the school's DSL and admins also every message
  the child sent, in order, read only through bot.services.access (checked and audited). Designated
  teachers and the Virtual School see the summary and are told the DSL has the details.
- POST /review/concerns/{id}/acknowledge: DSL and admin only, once: a note and the action
  taken, both required. Audited without the text.
- GET /dsl/concerns/{id}: where alert emails sent before this page existed pointed; it moves
  the browser here (the session cookie is only sent under /review).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bot.models import Role
from bot.review.auth import Staff, check_csrf, require_roles
from bot.review.routes import ReviewRoute, render
from bot.services.access import WORDS_ROLES, concern_messages
from bot.services.concerns import (
    TEXT_MAX,
    AcknowledgeError,
    acknowledge_as,
    acknowledgement,
    category_label,
    concern_summary,
    concerns_seen_by,
    question_label,
)
from bot.services.scope import StaffContext, transaction
from bot.uk_time import uk_time

router = APIRouter(prefix="/review", route_class=ReviewRoute)
#: The path in alert emails sent before the page existed.
email_link_router = APIRouter()

ACKNOWLEDGED_NOTICE = "Thank you. The concern is marked as acknowledged."
ALREADY_NOTICE = (
    "Someone else acknowledged this concern just before you, so your note was not saved. "
    "Their note is below."
)

DslOrAdmin = Annotated[StaffContext, Depends(require_roles(Role.dsl, Role.admin))]


def concern_path(concern_id: int) -> str:
    return f"/review/concerns/{concern_id}"


@router.get("/concerns", response_class=HTMLResponse)
def concern_list(request: Request, ctx: Staff) -> Response:
    with transaction(ctx) as session:
        rows = concerns_seen_by(session, ctx)
    return render(
        request, "review/concerns_list.html", ctx, concerns=rows,
        open_count=sum(1 for r in rows if r.acknowledged_at is None),
        reads_words=ctx.role in WORDS_ROLES,
    )  # fmt: skip


def _concern_page(
    request: Request, ctx: StaffContext, session: Session, concern_id: int,
    status_code: int = 200, **context: Any,
) -> HTMLResponse:  # fmt: skip
    row = concern_summary(session, ctx, concern_id)  # the scope, and the audit of the summary
    messages = None
    note = action_taken = None
    if ctx.role in WORDS_ROLES:
        messages = [
            {
                "time": uk_time(m.created_at),
                "category": category_label(m.category),
                "question": question_label(m.question_key),
                "words": m.words,
            }
            for m in concern_messages(session, ctx.viewer, concern_id)
        ]
        note, action_taken = acknowledgement(session, concern_id)
    return render(
        request, "review/concerns_detail.html", ctx, status_code, concern=row,
        messages=messages, saved_note=note, saved_action=action_taken,
        may_acknowledge=ctx.role in WORDS_ROLES and row.acknowledged_at is None,
        text_max=TEXT_MAX, **context,
    )  # fmt: skip


@router.get("/concerns/{concern_id}", response_class=HTMLResponse)
def concern_page(
    request: Request, ctx: Staff, concern_id: int, done: str | None = None
) -> Response:
    notice = {"acknowledged": ACKNOWLEDGED_NOTICE, "already": ALREADY_NOTICE}.get(done or "")
    with transaction(ctx) as session:
        return _concern_page(request, ctx, session, concern_id, notice=notice)


@router.post(
    "/concerns/{concern_id}/acknowledge",
    response_class=HTMLResponse,
    dependencies=[Depends(check_csrf)],
)
def acknowledge_concern(
    request: Request,
    ctx: DslOrAdmin,
    concern_id: int,
    note: Annotated[str, Form()] = "",
    action_taken: Annotated[str, Form()] = "",
) -> Response:
    with transaction(ctx) as session:
        try:
            done = acknowledge_as(session, ctx, concern_id, note=note, action_taken=action_taken)
        except AcknowledgeError as problem:
            return _concern_page(
                request, ctx, session, concern_id, 400, error=str(problem), typed_note=note,
                typed_action=action_taken,
            )  # fmt: skip
    outcome = "acknowledged" if done else "already"
    return RedirectResponse(f"{concern_path(concern_id)}?done={outcome}", status_code=303)


@email_link_router.get("/dsl/concerns/{concern_id}", include_in_schema=False)
def old_email_link(concern_id: int) -> Response:
    return RedirectResponse(concern_path(concern_id), status_code=301)
