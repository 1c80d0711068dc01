"""The web chat at /chat: start pages, the chat page, and the JSON API its script calls.

The app, not the browser, talks to the engine: it adds the session's sender id server-side
and sends only the child's text or a button payload the bot itself offered. No message text
is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from bot.engine_client import (
    NOT_SAVED_MESSAGE,
    EngineUnavailable,
    as_typed_text,
    send_to_engine,
    start_message,
)
from bot.services.conversation import link_conversation
from bot.services.invites import InviteError, InviteFailure
from bot.settings import REPO_ROOT, get_settings
from bot.web.progress import PepView, pep_view
from bot.web.sessions import COOKIE_NAME, WebSession, sender_for_code, sign, store, unsign

log = logging.getLogger(__name__)

router = APIRouter()
templates = Jinja2Templates(directory=str(REPO_ROOT / "bot" / "templates"))

CSRF_HEADER = "X-PEP-Voice"
MAX_TEXT_CHARS = 10_000  # far above what the bot keeps (2,000): it asks for shorter itself
START_FAILED_MESSAGE = (
    "Sorry, the chat isn't working just now. Please try again in a minute. "
    "Nothing you've said has been lost."
)
SERVICE_DOWN_MESSAGE = "Sorry, PEP Voice isn't working just now. Please try again later."
FINISHED_TITLE = "You've finished"
FINISHED_MESSAGE = (
    "You can close this page. Everything you said has been saved. "
    "To carry on later, open your link or type your code again."
)
SENT_MESSAGE = "Thank you! Your answers have already been sent to your designated teacher."
CODE_TITLES = {
    InviteFailure.unknown: "We couldn't find that code",
    InviteFailure.expired: "That code has run out",
    InviteFailure.used_elsewhere: "That code is already in use",
    InviteFailure.submitted: "Your answers have been sent",
}


def _is_https(request: Request) -> bool:
    if get_settings().behind_proxy:
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        if forwarded:
            return forwarded.lower() == "https"
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, session: WebSession) -> None:
    # No max_age or expires: the cookie goes when the browser closes, and the server forgets
    # the session sooner, after web_idle_minutes unused.
    response.set_cookie(
        COOKIE_NAME,
        sign(session.session_id),
        path="/chat",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )


def _clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/chat", httponly=True, samesite="lax", secure=_is_https(request)
    )


def _session_from(request: Request) -> WebSession | None:
    session_id = unsign(request.cookies.get(COOKIE_NAME))
    return None if session_id is None else store.get(session_id)


def _end_session(request: Request) -> None:
    session_id = unsign(request.cookies.get(COOKIE_NAME))
    if session_id is not None:
        store.end(session_id)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _start_page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    return _page(request, "start.html", status_code, **context)


def _finished_page(request: Request, title: str, message: str) -> HTMLResponse:
    _end_session(request)
    response = _start_page(request, error_title=title, error=message, finished=True)
    _clear_cookie(request, response)
    return response


async def _redeem(request: Request, code: str) -> Response:
    """Start a new session on the code's conversation, then drop the code from the URL.

    Whoever was using this browser before is done: their session ends, whatever the code.
    """
    code = code.strip()
    _end_session(request)
    try:
        if not 1 <= len(code) <= 32:
            raise InviteError(InviteFailure.unknown)
        sender = sender_for_code(code)
        linked = await asyncio.to_thread(link_conversation, code, sender)
    except InviteError as error:
        return _start_page(
            request,
            410 if error.reason != InviteFailure.unknown else 400,
            error_title=CODE_TITLES[error.reason],
            error=error.message,
            finished=error.reason == InviteFailure.submitted,
        )
    except Exception:
        log.exception("linking an invite failed")  # the code is not in the message
        return _start_page(request, 503, error_title="Please try later", error=SERVICE_DOWN_MESSAGE)
    session = store.new(sender)
    session.pep_id = linked.pep_id
    session.pending_code = code
    response = RedirectResponse("/chat", status_code=303)
    _set_cookie(request, response, session)
    return response


async def _view(pep_id: int) -> PepView | None:
    try:
        return await asyncio.to_thread(pep_view, pep_id)
    except Exception:
        log.exception("reading progress failed")
        return None


def _state(view: PepView | None) -> dict[str, Any]:
    return view.as_json() if view else {"progress": None, "answering": None, "submitted": False}


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request, code: str | None = None) -> Response:
    if code is not None:
        return await _redeem(request, code)
    session = _session_from(request)
    if session is None or session.pep_id is None:
        return _start_page(request)
    view = await _view(session.pep_id)
    if view is not None and view.submitted:
        return _finished_page(request, CODE_TITLES[InviteFailure.submitted], SENT_MESSAGE)
    return _page(request, "chat.html", view=view, not_saved=NOT_SAVED_MESSAGE)


@router.get("/chat/finished", response_class=HTMLResponse)
async def finished_page(request: Request) -> Response:
    # Only a page: ending the session is the job of POST /chat/api/finish (a GET any site
    # can link to must not end a child's chat).
    return _start_page(request, error_title=FINISHED_TITLE, error=FINISHED_MESSAGE, finished=True)


@router.post("/chat/start", response_class=HTMLResponse)
async def typed_code(request: Request) -> Response:
    # A plain urlencoded form, parsed here: no multipart dependency for one field.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    return await _redeem(request, (form.get("code") or [""])[0])


@router.get("/chat/{code}", response_class=HTMLResponse)
async def chat_link(request: Request, code: str) -> Response:
    return await _redeem(request, code)


# --- JSON API for the page's script --------------------------------------------------------


def _api_error(status_code: int, error: str, message: str) -> HTTPException:
    return HTTPException(status_code, detail={"error": error, "message": message})


def require_csrf_header(request: Request) -> None:
    # Cross-site forms cannot set a custom header, and cross-site fetches need a CORS
    # preflight we never grant: with the SameSite=Lax cookie this stops forged posts.
    if request.headers.get(CSRF_HEADER) != "1":
        raise _api_error(403, "forbidden", "Please reload the page.")


def linked_session(request: Request) -> WebSession:
    session = _session_from(request)
    if session is None or session.pep_id is None:
        raise _api_error(401, "no_session", "Please open your chat link again.")
    return session


Session = Annotated[WebSession, Depends(linked_session)]


async def _reply(session: WebSession, new: list[dict[str, Any]]) -> dict[str, Any]:
    assert session.pep_id is not None
    body = {"messages": new, **_state(await _view(session.pep_id))}
    if body["submitted"]:
        # Sent: the words are the designated teacher's now; nothing is shown again here.
        session.forget_transcript()
    return body


@router.get("/chat/api/history")
async def history(session: Session) -> dict[str, Any]:
    assert session.pep_id is not None
    state = _state(await _view(session.pep_id))
    if state["submitted"]:
        session.forget_transcript()
    return {"messages": list(session.transcript), **state, "started": session.pending_code is None}


@router.post("/chat/api/finish", dependencies=[Depends(require_csrf_header)])
async def finish(request: Request, response: Response) -> dict[str, Any]:
    """The child is done on this device: forget the session and its cookie."""
    _end_session(request)
    _clear_cookie(request, response)
    return {"finished": True, "location": "/chat/finished"}


@router.post("/chat/api/start", dependencies=[Depends(require_csrf_header)])
async def start(session: Session) -> dict[str, Any]:
    async with session.lock:
        if session.pending_code is None:
            return await _reply(session, [])
        try:
            replies = await send_to_engine(session.sender_id, start_message(session.pending_code))
        except EngineUnavailable:
            raise _api_error(503, "not_started", START_FAILED_MESSAGE) from None
        session.pending_code = None
        new = session.add_turn(None, replies)
    return await _reply(session, new)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _api_error(400, "bad_request", "Please reload the page.")
    return body


@router.post("/chat/api/send", dependencies=[Depends(require_csrf_header)])
async def send(request: Request, session: Session) -> dict[str, Any]:
    body = await _json_body(request)
    async with session.lock:
        if session.pending_code is not None:
            raise _api_error(409, "not_started", "Please wait for the chat to start.")
        payload, text = body.get("payload"), body.get("text")
        if isinstance(payload, str):
            # Only a payload the bot offered in its latest turn: never an intent of our own.
            title = session.offered_buttons().get(payload)
            if title is None:
                raise _api_error(409, "stale_button", "Please choose again, or type your answer.")
            shown, to_engine = title, payload
        elif isinstance(text, str) and text.strip():
            if len(text) > MAX_TEXT_CHARS:
                raise _api_error(
                    413, "too_long", "That's too long to send. Please make it shorter."
                )
            shown, to_engine = text, as_typed_text(text)
        else:
            raise _api_error(400, "empty", "Please type something first.")
        try:
            replies = await send_to_engine(session.sender_id, to_engine)
        except EngineUnavailable:
            raise _api_error(503, "not_sent", NOT_SAVED_MESSAGE) from None
        new = session.add_turn(shown, replies)
    return await _reply(session, new)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """No caching of pages holding a child's words; no third-party anything; no referrer."""
    response = await call_next(request)
    if request.url.path.startswith("/chat"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
