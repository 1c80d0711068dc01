"""FastAPI dependencies for the review app: who is logged in, their role, CSRF on forms.

    @router.get("/review/children/{child_id}")
    def child_page(request: Request, ctx: Staff, child_id: int) -> HTMLResponse: ...

    @router.post("/review/pep/{pep_id}/note", dependencies=[Depends(check_csrf)])
    def save_note(ctx: Annotated[StaffContext, Depends(require_roles(Role.dsl))]) -> ...

- `current_staff` (or the `Staff` annotation): the StaffContext of the session's account;
  without a live session a page redirects (303) to /review/login?next=<this path>.
- `require_roles(*roles)`: current_staff, and 403 for any other role.
- `check_csrf`: every POST form carries `csrf_field(request)` (a hidden input named "csrf");
  the token is the session's secret signed with bot.keys.sign("review-csrf", ...), and a form
  without it or with another session's gets 403. The login form, before any session, is
  tied to a random cookie instead (`login_csrf_*`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from markupsafe import Markup, escape

from bot.keys import sign, unsign
from bot.models import Role
from bot.review.sessions import staff_for_cookie
from bot.services.scope import StaffContext
from bot.web.form_csrf import PreSessionForm
from bot.web.http import is_https

SESSION_COOKIE = "pepvoice_staff"
LOGIN_COOKIE = "pepvoice_review_login"
COOKIE_PATH = "/review"
CSRF_FIELD = "csrf"
CSRF_PURPOSE = "review-csrf"
LOGIN_CSRF_PURPOSE = "review-login"
LOGIN_FORM = PreSessionForm(LOGIN_COOKIE, LOGIN_CSRF_PURPOSE, COOKIE_PATH)
STALE_FORM_MESSAGE = "That page was out of date. Please go back, reload it and try again."
LOGIN_PATH = "/review/login"


class LoginRequired(HTTPException):
    """No live session: a page sends the browser to the login page, then back here."""

    def __init__(self, request: Request) -> None:
        super().__init__(303, "Please log in", headers={"Location": login_url(request)})


def login_url(request: Request) -> str:
    target = request.url.path
    if request.url.query and request.method == "GET":
        target += "?" + request.url.query
    if request.method != "GET" or not safe_next(target):
        target = "/review"
    return f"{LOGIN_PATH}?next={quote(target, safe='/')}"


def safe_next(target: str | None) -> bool:
    """Only our own review pages: never another site (//evil.example, /\\evil.example)."""
    return bool(
        target
        and (target == "/review" or target.startswith("/review/"))
        and "\\" not in target
        and not target.startswith(LOGIN_PATH)
        and all(ord(c) > 32 for c in target)
    )


def current_staff(request: Request) -> StaffContext:
    """The logged-in staff member (their session's last use is updated), else LoginRequired."""
    cached = getattr(request.state, "staff", None)
    if isinstance(cached, StaffContext):
        return cached
    live = staff_for_cookie(request.cookies.get(SESSION_COOKIE))
    if live is None:
        raise LoginRequired(request)
    request.state.staff = live.staff
    request.state.csrf_secret = live.csrf_secret
    return live.staff


Staff = Annotated[StaffContext, Depends(current_staff)]


def require_roles(*roles: Role) -> Callable[[StaffContext], StaffContext]:
    """A dependency: the logged-in staff member if their role is one of `roles`, else 403."""
    allowed = frozenset(roles)

    def dependency(ctx: Staff) -> StaffContext:
        if ctx.role not in allowed:
            raise HTTPException(403, "Your role cannot use this page.")
        return ctx

    return dependency


# --- CSRF ----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str | None:
    """The token for forms on this page: the session's, or on the login page the login one;
    None on a page with neither (an error page for someone not logged in)."""
    secret = getattr(request.state, "csrf_secret", None)
    if isinstance(secret, str):
        return sign(CSRF_PURPOSE, secret)
    nonce = getattr(request.state, "login_nonce", None)
    if isinstance(nonce, str):
        return LOGIN_FORM.token(nonce)
    return None


def csrf_field(request: Request) -> Markup:
    """The hidden input every POST form must carry: `{{ csrf_field }}` in a template (empty
    where there is no token to give: such a page's forms would be refused)."""
    token = csrf_token(request)
    if token is None:
        return Markup("")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


async def check_csrf(request: Request, ctx: Staff) -> StaffContext:
    """For every POST: the form's token must be this session's (403 otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    value = unsign(CSRF_PURPOSE, token if isinstance(token, str) else None)
    secret = getattr(request.state, "csrf_secret", "")
    if value is None or not hmac.compare_digest(value, secret):
        raise HTTPException(403, STALE_FORM_MESSAGE)
    return ctx


def login_csrf_nonce(request: Request) -> str:
    """The login form's nonce (the page must then set it with `set_login_cookie`)."""
    nonce = LOGIN_FORM.nonce(request)
    request.state.login_nonce = nonce
    return nonce


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    LOGIN_FORM.keep(request, response, nonce)


def login_csrf_ok(request: Request, token: str) -> bool:
    return LOGIN_FORM.posted_ok(request, token)


# --- The session cookie --------------------------------------------------------------------


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    # No max_age: the cookie goes with the browser; the server ends the session sooner
    # (bot.review.sessions: 30 idle minutes, 12 hours in all).
    response.set_cookie(
        SESSION_COOKIE, cookie, path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=is_https(request),
    )  # fmt: skip


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=is_https(request),
    )  # fmt: skip
