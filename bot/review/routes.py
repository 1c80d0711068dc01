"""The review app's pages: log in, log out, and the home page (who you are, your children).

Pages render `review/*.html` through `render`, which gives every template `staff` (the
StaffContext, or None on the login page) and `csrf_field` (the hidden input for POST forms).
Routes on `router` (route_class `ReviewRoute`) answer a refusal (403, 404, ...) with the
`review/error.html` page, not JSON, and a missing login with a redirect to the login page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.db import session_scope
from bot.db_errors import is_busy
from bot.models import Child, Pep, School, StaffUser
from bot.review import accounts, auth
from bot.review.auth import Staff
from bot.review.scope import StaffContext, audit, children_query, peps_query, transaction
from bot.review.sessions import create_session, end_session, lookup_session
from bot.services import record_event
from bot.services.dashboard import dashboard_for
from bot.settings import REPO_ROOT
from bot.web.http import client_address

templates = Jinja2Templates(directory=str(REPO_ROOT / "bot" / "templates"))

ERROR_TITLES = {
    403: "You cannot do that here",
    404: "Page not found",
    405: "Page not found",
    413: "That was too much to send",
    422: "Something was missing",
    503: "Busy just now",
}
BUSY_MESSAGE = (
    "The database is busy with children's answers just now. Nothing was changed: please try "
    "again in a few seconds."
)
NOT_FOUND_MESSAGE = "There is nothing here that your account can see."


class ReviewRoute(APIRoute):
    """Refusals as HTML pages for staff (the API's JSON is for scripts), redirects as such."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                return error_page(request, exc)
            except DBAPIError as exc:
                if not is_busy(exc):
                    raise
                # Children's answers come first: a page that waited its turn and lost says
                # so, rather than a bare 500. Nothing the page was doing was half-saved.
                busy = HTTPException(503, BUSY_MESSAGE, headers={"Retry-After": "5"})
                response = error_page(request, busy)
                response.headers["Retry-After"] = "5"
                return response

        return route


def error_page(request: Request, exc: HTTPException) -> Response:
    location = (exc.headers or {}).get("Location")
    if 300 <= exc.status_code < 400 and location:
        return RedirectResponse(location, status_code=exc.status_code)
    staff = getattr(request.state, "staff", None)
    if exc.status_code == 404:
        message = NOT_FOUND_MESSAGE
    else:
        message = exc.detail if isinstance(exc.detail, str) else "Please go back and try again."
    return render(
        request, "review/error.html", staff if isinstance(staff, StaffContext) else None,
        exc.status_code, title=ERROR_TITLES.get(exc.status_code, "That didn't work"),
        message=message,
    )  # fmt: skip


router = APIRouter(prefix="/review", route_class=ReviewRoute)

LOGGED_OUT_MESSAGE = "You have logged out."
# The login form's fields are short; anything longer is cut before it is looked at.
_EMAIL_MAX = 320


def year_name(year_group: int) -> str:
    """For staff pages: "Nursery", "Reception", "Year 5"."""
    return {-1: "Nursery", 0: "Reception"}.get(year_group, f"Year {year_group}")


def render(
    request: Request, name: str, staff: StaffContext | None = None, status_code: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    """A review page with `staff` and `csrf_field` in its context."""
    return templates.TemplateResponse(
        request,
        name,
        {"staff": staff, "csrf_field": auth.csrf_field(request), **context},
        status_code=status_code,
    )


def _login_page(
    request: Request, status_code: int = 200, *, next_path: str = "/review", **context: Any
) -> HTMLResponse:
    nonce = auth.login_csrf_nonce(request)
    response = render(
        request, "review/login.html", status_code=status_code,
        next_path=next_path if auth.safe_next(next_path) else "/review", **context,
    )  # fmt: skip
    auth.set_login_cookie(request, response, nonce)
    return response


def _has_live_session(request: Request) -> bool:
    with session_scope() as session:
        return lookup_session(session, request.cookies.get(auth.SESSION_COOKIE)) is not None


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/review") -> Response:
    if _has_live_session(request):
        return RedirectResponse(next if auth.safe_next(next) else "/review", status_code=303)
    return _login_page(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/review",
) -> Response:
    email = email.strip()[:_EMAIL_MAX]
    if not auth.login_csrf_ok(request, csrf):
        return _login_page(request, 403, next_path=next, email=email, error=auth.STALE_FORM_MESSAGE)
    result = accounts.authenticate(email, password, address=client_address(request))
    with session_scope() as session:
        # A browser that logs in again drops the session it had.
        end_session(session, request.cookies.get(auth.SESSION_COOKIE))
        staff = session.get(StaffUser, result.staff_id) if result.staff_id else None
        cookie = create_session(session, staff).cookie if staff else None
    if cookie is None:
        return _login_page(
            request, 429 if result.throttled else 400, next_path=next, email=email,
            error=result.message,
        )  # fmt: skip
    response = RedirectResponse(next if auth.safe_next(next) else "/review", status_code=303)
    auth.set_session_cookie(request, response, cookie)
    response.delete_cookie(auth.LOGIN_COOKIE, path=auth.COOKIE_PATH)
    return response


@router.post("/logout", response_class=HTMLResponse, dependencies=[Depends(auth.check_csrf)])
def logout(request: Request, ctx: Staff) -> Response:
    with session_scope() as session:
        end_session(session, request.cookies.get(auth.SESSION_COOKIE))
        record_event(
            session, ctx.actor, "staff.logout", school_id=ctx.school_id, staff_id=ctx.staff_id
        )
    request.state.csrf_secret = None  # this page is the login page now
    response = _login_page(request, notice=LOGGED_OUT_MESSAGE)
    auth.clear_session_cookie(request, response)
    return response


@router.get("", response_class=HTMLResponse)
def home(request: Request, ctx: Staff) -> Response:
    with transaction(ctx) as session:
        school_name = session.scalar(select(School.name).where(School.id == ctx.school_id))
        rows = session.execute(
            children_query(ctx)
            .join(School, School.id == Child.school_id)
            .with_only_columns(Child.id, Child.first_name, Child.year_group, School.name)
            .order_by(School.name, Child.first_name, Child.id)
        ).all()
        # Each child's latest PEP (by meeting date): the link to its child's voice page.
        latest_pep = dict(
            session.execute(
                peps_query(ctx)
                .with_only_columns(Pep.child_id, Pep.id)
                .order_by(Pep.meeting_date, Pep.id)
            ).all()
        )
        audit(
            session, ctx, "child.listed",
            school_id=None if ctx.all_schools else ctx.school_id, children=len(rows),
        )  # fmt: skip
        dashboard = dashboard_for(session, ctx)
    children = [
        {"id": r.id, "first_name": r.first_name, "year": year_name(r.year_group),
         "school": r.name, "pep_id": latest_pep.get(r.id)}
        for r in rows
    ]  # fmt: skip
    return render(
        request, "review/home.html", ctx, school_name=school_name, children=children,
        dashboard=dashboard,
    )  # fmt: skip
