"""Webhook mode, mounted in the FastAPI app: POST /telegram/webhook.

On when both TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET (32+ characters) are set. Telegram
sends the secret in X-Telegram-Bot-Api-Secret-Token (missing or wrong: 403) and redelivers
an update until it is answered with a 2xx, so an update is acknowledged only once it has
been processed:

- the body is capped (413) before it is parsed (400 if it is not an update);
- the update id is claimed in the store as in progress (`telegram_updates.claim_update`):
  an update already processed is acknowledged (200) and not run again, and one that
  another delivery is processing right now is answered 503, so Telegram tries again later;
- the update is processed in the request, one at a time per chat (in order);
- then it is marked processed and answered 200. If processing raised, the claim is released
  and the answer is 500: Telegram redelivers it and it runs again. A claim left by a process
  that died mid-update is taken over after `telegram_updates.STALE_CLAIM`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import TelegramError

from bot.models import utcnow
from bot.services.telegram_updates import UpdateClaim, claim_update, finish_update, release_update
from bot.settings import get_settings
from bot.telegram.application import ALLOWED_UPDATES, TelegramApplication, build_application
from bot.telegram.handlers import process_update

log = logging.getLogger(__name__)

router = APIRouter()
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram updates are small (a message is at most 4,096 characters); the web app's
#: LimitRequestSize middleware applies the same limit to this path.
MAX_UPDATE_BYTES = 256 * 1024
#: Telegram retries a 503 later; by then the other delivery has finished (or failed).
RETRY_AFTER_SECONDS = "5"


class KeyedLocks:
    """One asyncio lock per key (a chat), dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: Counter[Hashable] = Counter()

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


def webhook_mode() -> bool:
    settings = get_settings()
    return settings.telegram.uses_webhook


@asynccontextmanager
async def telegram_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the Telegram application with the web app when webhook mode is on."""
    app.state.telegram = None
    if not webhook_mode():
        yield
        return
    settings = get_settings()
    application = build_application(settings, polling=False)
    try:
        await application.initialize()
    except TelegramError as error:
        # Keep the web app (and its web chat) up; Telegram redelivers once we are back.
        log.error("Telegram is off: the Bot API refused to start: %s", type(error).__name__)
        yield
        return
    await application.start()
    try:
        await application.bot.set_webhook(
            settings.web.base_url.rstrip("/") + WEBHOOK_PATH,
            secret_token=settings.telegram.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    except TelegramError as error:
        log.error("could not register the Telegram webhook: %s", type(error).__name__)
    app.state.telegram = application
    app.state.telegram_chat_locks = KeyedLocks()
    try:
        yield
    finally:
        app.state.telegram = None
        await application.stop()
        await application.shutdown()


async def _body(request: Request) -> bytes | None:
    """The request body, or None when it is over MAX_UPDATE_BYTES (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_UPDATE_BYTES):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPDATE_BYTES:
            return None
    return bytes(body)


def _parse(body: bytes, application: TelegramApplication) -> Update | None:
    try:
        data: Any = json.loads(body)
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    # As PTB's own webhook server does: a tapped button's ids become its payload (the cache).
    application.bot.insert_callback_data(update)
    return update


async def _run(request: Request, application: TelegramApplication, update: Update) -> Response:
    """Process a claimed update; mark it processed, or release it for a redelivery."""
    claimed_at = utcnow()
    try:
        claim = await asyncio.to_thread(claim_update, update.update_id, claimed_at)
    except SQLAlchemyError as error:
        log.error("could not claim a Telegram update: %s", type(error).__name__)
        return Response(status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    if claim is UpdateClaim.done:
        return Response(status_code=200)  # a redelivery: acknowledged, not run again
    if claim is UpdateClaim.busy:
        return Response(status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    locks: KeyedLocks = request.app.state.telegram_chat_locks
    chat = update.effective_chat.id if update.effective_chat else None
    try:
        async with locks.hold(chat):
            await process_update(application, update)
    except Exception as error:
        # Only the error's type in the log: the update holds the child's words.
        cause = type(error.__cause__ or error).__name__
        log.warning("a Telegram update failed (%s); answered 500 for a redelivery", cause)
        try:
            await asyncio.to_thread(release_update, update.update_id, claimed_at)
        except SQLAlchemyError as release_error:
            # The claim goes stale and a redelivery takes it over after STALE_CLAIM.
            log.error("could not release a Telegram update: %s", type(release_error).__name__)
        return Response(status_code=500)
    try:
        await asyncio.to_thread(finish_update, update.update_id)
    except SQLAlchemyError as error:
        # Processed: acknowledge it, or Telegram would have it run again.
        log.error("could not mark a Telegram update processed: %s", type(error).__name__)
    return Response(status_code=200)


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    application: TelegramApplication | None = getattr(request.app.state, "telegram", None)
    if application is None:
        return Response(status_code=404)
    secret = get_settings().telegram.webhook_secret.get_secret_value().encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, secret):
        return Response(status_code=403)
    body = await _body(request)
    if body is None:
        return Response(status_code=413)
    update = _parse(body, application)
    if update is None:
        return Response(status_code=400)
    return await _run(request, application, update)
