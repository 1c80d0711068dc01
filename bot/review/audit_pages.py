"""GET /review/audit: the audit log, for admins only (issue 10: "admins can read it").

Reading the log is itself recorded (`audit.viewed`, with the filter used).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from bot.models import Role
from bot.review.auth import require_roles
from bot.review.routes import ReviewRoute, render
from bot.services.audit_log import AuditFilter, audit_page
from bot.services.directory import school_list
from bot.services.scope import StaffContext, audit, transaction
from bot.services.voice_document import UK

router = APIRouter(prefix="/review", route_class=ReviewRoute)

Admin = Annotated[StaffContext, Depends(require_roles(Role.admin))]


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    ctx: Admin,
    action: str = "",
    school: str = "",
    pep: str = "",
    before: str = "",
) -> Response:
    # The form sends empty fields as "": read them as "any", and anything not a number too.
    where = AuditFilter(action.strip()[:64], _id(school), _id(pep), _id(before))
    with transaction(ctx) as session:
        rows, older = audit_page(session, where)
        schools = school_list(session)
        audit(
            session, ctx, "audit.viewed", school_id=where.school_id,
            filter_pep_id=where.pep_id, filter_action=where.action or None,
            before_id=where.before_id,
        )  # fmt: skip
    return render(
        request, "review/audit.html", ctx, rows=rows, older=older, where=where,
        schools=schools, times={row.id: f"{row.at.astimezone(UK):%d %b %Y %H:%M}" for row in rows},
    )  # fmt: skip


def _id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None
