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
from sqlalchemy.exc import DBAPIError

from bot.db_errors import is_busy
from bot.review import accounts, auth
from bot.review.auth import Staff
from bot.review.sessions import has_live_session, log_in, log_out
from bot.services.dashboard import children_seen_by, dashboard_for
from bot.services.directory import school_name
from bot.services.scope import OutOfScope, ReadOnly, StaffContext, transaction
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
            except (OutOfScope, ReadOnly) as refusal:
                # The scope's refusals (bot.services.scope): 404 for a record out of sight,
                # 403 for a change by a read-only role.
                return error_page(request, HTTPException(refusal.status_code, refusal.message))
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


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/review") -> Response:
    if has_live_session(request.cookies.get(auth.SESSION_COOKIE)):
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
    # A browser that logs in again drops the session it had.
    cookie = log_in(request.cookies.get(auth.SESSION_COOKIE), result.staff_id)
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
    log_out(request.cookies.get(auth.SESSION_COOKIE), ctx)
    request.state.csrf_secret = None  # this page is the login page now
    response = _login_page(request, notice=LOGGED_OUT_MESSAGE)
    auth.clear_session_cookie(request, response)
    return response


@router.get("", response_class=HTMLResponse)
def home(request: Request, ctx: Staff) -> Response:
    with transaction(ctx) as session:
        school = school_name(session, ctx.school_id)
        rows = children_seen_by(session, ctx)
        dashboard = dashboard_for(session, ctx)
    children = [
        {"id": r.id, "first_name": r.first_name, "year": year_name(r.year_group),
         "school": r.school, "pep_id": r.latest_pep_id}
        for r in rows
    ]  # fmt: skip
    return render(
        request, "review/home.html", ctx, school_name=school, children=children,
        dashboard=dashboard,
    )  # fmt: skip
