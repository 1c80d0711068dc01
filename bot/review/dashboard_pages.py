"""The child's invite card and the carer guide (issue 10). The dashboard itself is the home
page (`bot.review.routes.home`, `review/dashboard_table.html`, `bot.services.dashboard`).

- POST /review/peps/{pep_id}/invite: a new invite for the PEP (older ones stop working), shown
  once as a card to print: the child's first name, the code, the web link and its QR code,
  the Telegram link when Telegram is on, the expiry date, and the carer guide as a second
  printed page. The code and links are never stored in clear, so this page is the only time
  they can be seen: it is rendered straight from the POST (no redirect), never cached.
  Designated teachers, DSLs and admins of the PEP's school; the Virtual School gets 403.
- GET /review/carer-guide: the one-page guide for carers, to print or show on screen.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from bot.review.auth import Staff, check_csrf
from bot.review.routes import ReviewRoute, render
from bot.services import ServiceError
from bot.services.dashboard import invite_card
from bot.services.scope import pep_or_404, transaction

router = APIRouter(prefix="/review", route_class=ReviewRoute)

SUBMITTED_MESSAGE = (
    "This child's voice has already been sent, so there is nothing left for a code to open. "
    "If they need to add something, please speak to your PEP Voice administrator."
)


@router.post(
    "/peps/{pep_id}/invite", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
def create_invite(request: Request, ctx: Staff, pep_id: int) -> Response:
    with transaction(ctx) as session:
        pep = pep_or_404(session, ctx, pep_id, purpose="edit")
        try:
            card = invite_card(session, pep, actor=ctx.actor)
        except ServiceError:
            raise HTTPException(409, SUBMITTED_MESSAGE) from None
    response = render(request, "review/dashboard_invite.html", ctx, card=card)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/carer-guide", response_class=HTMLResponse)
def carer_guide(request: Request, ctx: Staff) -> Response:
    return render(request, "review/dashboard_guide.html", ctx)
