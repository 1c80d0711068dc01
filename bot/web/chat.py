"""The web chat at /chat: start pages, the chat page, and the JSON API its script calls.

Opening a link never uses it up: link scanners (mail safe-links, chat previews) fetch
URLs, so every GET that carries a code or link token only shows a "Start" page. The POST to
/chat/start redeems it, with a CSRF token tied to a cookie set by that page.

The app, not the browser, talks to the engine: it links the conversation itself, then adds
the session's sender id server-side and sends only the child's text or a button payload
the bot itself offered. No message text is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from bot.child_texts import (
    CODE_IN_CHAT_MESSAGE,
    FINISHED_MESSAGE,
    FINISHED_TITLE,
    NOT_SAVED_MESSAGE,
    REFUSED_MESSAGE,
    REFUSED_TITLE,
    REVOKED_SESSION_MESSAGE,
    SENT_MESSAGE,
    SENT_TITLE,
    SERVICE_DOWN_MESSAGE,
    STALE_FORM_MESSAGE,
    START_FAILED_MESSAGE,
    THROTTLED_TITLE,
    TOO_LONG_MESSAGE,
)
from bot.engine_client import (
    START_MESSAGE,
    BotMessage,
    EngineUnavailable,
    as_typed_text,
    send_to_engine,
)
from bot.security import secrets_in
from bot.services.conversation import (
    TypedSecret,
    link_invite_conversation,
    still_linked,
    typed_secret,
)
from bot.services.invites import InviteError, InviteFailure
from bot.settings import REPO_ROOT
from bot.web.form_csrf import PreSessionForm
from bot.web.http import client_address
from bot.web.http import is_https as _is_https
from bot.web.progress import PepView, pep_view
from bot.web.sessions import (
    COOKIE_NAME,
    WebSession,
    conversations_for_invite,
    cookie_value,
    session_id_from,
    store,
)

log = logging.getLogger(__name__)

router = APIRouter()
templates = Jinja2Templates(directory=str(REPO_ROOT / "bot" / "templates"))

CSRF_HEADER = "X-PEP-Voice"
MAX_TEXT_CHARS = 10_000  # far above what the bot keeps (2,000): it asks for shorter itself
#: The start form's CSRF cookie: random, set by the page that shows the form.
START_COOKIE = "pepvoice_start"
START_FORM = PreSessionForm(START_COOKIE, "start-form", "/chat")
START_FORM_MAX_BYTES = 2048


def _set_cookie(request: Request, response: Response, session: WebSession) -> None:
    # No max_age or expires: the cookie goes when the browser closes, and the server forgets
    # the session sooner, after web_idle_minutes unused.
    response.set_cookie(
        COOKIE_NAME,
        cookie_value(session.session_id),
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
    session_id = session_id_from(request.cookies.get(COOKIE_NAME))
    return None if session_id is None else store.get(session_id)


def _end_session(request: Request) -> None:
    session_id = session_id_from(request.cookies.get(COOKIE_NAME))
    if session_id is not None:
        store.end(session_id)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _start_page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The code form (or, with `secret`, a page with only a Start button), with a fresh
    CSRF token for its POST (bot.web.form_csrf)."""
    nonce = START_FORM.nonce(request)
    response = _page(request, "start.html", status_code, csrf=START_FORM.token(nonce), **context)
    START_FORM.keep(request, response, nonce)
    return response


def _finished_page(request: Request, title: str, message: str) -> HTMLResponse:
    _end_session(request)
    response = _start_page(request, error_title=title, error=message, finished=True)
    _clear_cookie(request, response)
    return response


async def _redeem(request: Request, secret: str) -> Response:
    """Start a new session on the invite's conversation, then go to the chat.

    Whoever was using this browser before is done: their session ends, whatever the code.
    Every refusal looks the same, so a guesser learns nothing about which codes exist.
    """
    _end_session(request)
    try:
        linked, conversation = await asyncio.to_thread(
            link_invite_conversation,
            secret.strip()[:64],
            conversations_for_invite,
            client=client_address(request),
        )
    except InviteError as error:
        throttled = error.reason == InviteFailure.throttled
        return _start_page(
            request,
            429 if throttled else 400,
            error_title=THROTTLED_TITLE if throttled else REFUSED_TITLE,
            error=error.message,
        )
    except Exception:
        log.exception("linking an invite failed")  # the code is not in the message
        return _start_page(request, 503, error_title="Please try later", error=SERVICE_DOWN_MESSAGE)
    session = store.new(conversation)
    session.pep_id = linked.pep_id
    response = RedirectResponse("/chat", status_code=303)
    _set_cookie(request, response, session)
    return response


def _confirm_page(request: Request, field: str, secret: str) -> HTMLResponse:
    """A link or an old-style code URL: a Start button that posts it; nothing redeemed yet."""
    return _start_page(request, confirm_field=field, confirm_value=secret.strip()[:64])


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
        return _confirm_page(request, "code", code)
    session = _session_from(request)
    if session is None or session.pep_id is None:
        return _start_page(request)
    if not await asyncio.to_thread(still_linked, session.sender_id):
        return _finished_page(request, "This chat has closed", REVOKED_SESSION_MESSAGE)
    view = await _view(session.pep_id)
    if view is not None and view.submitted:
        return _finished_page(request, SENT_TITLE, SENT_MESSAGE)
    return _page(request, "chat.html", view=view, not_saved=NOT_SAVED_MESSAGE)


@router.get("/chat/finished", response_class=HTMLResponse)
async def finished_page(request: Request) -> Response:
    # Only a page: ending the session is the job of POST /chat/api/finish (a GET any site
    # can link to must not end a child's chat).
    return _start_page(request, error_title=FINISHED_TITLE, error=FINISHED_MESSAGE, finished=True)


@router.post("/chat/start", response_class=HTMLResponse)
async def start_form(request: Request) -> Response:
    # A plain urlencoded form, parsed here: no multipart dependency for two fields.
    body = await request.body()
    if len(body) > START_FORM_MAX_BYTES:
        return _start_page(request, 413, error_title=REFUSED_TITLE, error=REFUSED_MESSAGE)
    form = parse_qs(body.decode("utf-8", "replace"))
    if not START_FORM.posted_ok(request, (form.get("csrf") or [""])[0]):
        return _start_page(request, 403, error_title="Please try again", error=STALE_FORM_MESSAGE)
    secret = (form.get("link") or form.get("code") or [""])[0]
    return await _redeem(request, secret)


@router.get("/chat/link/{token}", response_class=HTMLResponse)
async def chat_link(request: Request, token: str) -> Response:
    return _confirm_page(request, "link", token)


@router.get("/chat/{code}", response_class=HTMLResponse)
async def chat_code_link(request: Request, code: str) -> Response:
    return _confirm_page(request, "code", code)


# --- JSON API for the page's script --------------------------------------------------------


def _api_error(status_code: int, error: str, message: str) -> HTTPException:
    return HTTPException(status_code, detail={"error": error, "message": message})


def require_csrf_header(request: Request) -> None:
    # Cross-site forms cannot set a custom header, and cross-site fetches need a CORS
    # preflight we never grant: with the SameSite=Lax cookie this stops forged posts.
    if request.headers.get(CSRF_HEADER) != "1":
        raise _api_error(403, "forbidden", "Please reload the page.")


async def linked_session(request: Request) -> WebSession:
    session = _session_from(request)
    if session is None or session.pep_id is None:
        raise _api_error(401, "no_session", "Please open your chat link again.")
    if not await asyncio.to_thread(still_linked, session.sender_id):
        # A newer invite replaced this one (say the device was lost): this session is over.
        store.end(session.session_id)
        raise _api_error(401, "no_session", REVOKED_SESSION_MESSAGE)
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
    return {"messages": list(session.transcript), **state, "started": session.started}


@router.post("/chat/api/finish", dependencies=[Depends(require_csrf_header)])
async def finish(request: Request, response: Response) -> dict[str, Any]:
    """The child is done on this device: forget the session and its cookie."""
    _end_session(request)
    _clear_cookie(request, response)
    return {"finished": True, "location": "/chat/finished"}


def _engine_client(request: Request) -> httpx.AsyncClient | None:
    """The app's pool of connections to the engine (bot.web.app's lifespan), if it runs."""
    return getattr(request.app.state, "engine_client", None)


@router.post("/chat/api/start", dependencies=[Depends(require_csrf_header)])
async def start(request: Request, session: Session) -> dict[str, Any]:
    async with session.lock:
        if session.started:
            return await _reply(session, [])
        try:
            replies = await send_to_engine(
                session.sender_id, START_MESSAGE, client=_engine_client(request)
            )
        except EngineUnavailable:
            raise _api_error(503, "not_started", START_FAILED_MESSAGE) from None
        session.started = True
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
        if not session.started:
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
                raise _api_error(413, "too_long", TOO_LONG_MESSAGE)
            shown, to_engine = text, as_typed_text(text)
            if await _holds_an_invite(request, text):
                # Never into the engine or the store: the chat is linked already.
                new = session.add_turn(None, [BotMessage(CODE_IN_CHAT_MESSAGE)])
                return await _reply(session, new)
        else:
            raise _api_error(400, "empty", "Please type something first.")
        try:
            replies = await send_to_engine(
                session.sender_id, to_engine, client=_engine_client(request)
            )
        except EngineUnavailable:
            raise _api_error(503, "not_sent", NOT_SAVED_MESSAGE) from None
        new = session.add_turn(shown, replies)
    return await _reply(session, new)


async def _holds_an_invite(request: Request, text: str) -> bool:
    candidates = secrets_in(text)
    if not candidates:
        return False
    verdict = await asyncio.to_thread(typed_secret, candidates, client=client_address(request))
    return verdict == TypedSecret.invite


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """No caching of pages holding a child's words; no third-party anything; no referrer."""
    response = await call_next(request)
    if request.url.path.startswith(("/chat", "/review")):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
