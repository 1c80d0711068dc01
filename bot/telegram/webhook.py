"""Webhook mode, mounted in the FastAPI app: POST /telegram/webhook.

On when both TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET are set. Telegram sends the secret
in X-Telegram-Bot-Api-Secret-Token (missing or wrong: 403) and redelivers an update it did
not see acknowledged, so each update id is claimed in the store first: a redelivery is
acknowledged (200) and not run again. Updates go on the application's queue and are handled
one at a time, in order, after the response.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from telegram import Update
from telegram.error import TelegramError

from bot.settings import get_settings
from bot.telegram.application import ALLOWED_UPDATES, TelegramApplication, build_application
from bot.telegram.links import claim_update

log = logging.getLogger(__name__)

router = APIRouter()
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_mode() -> bool:
    settings = get_settings()
    return bool(settings.telegram_token and settings.telegram_webhook_secret)


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
            settings.app_base_url.rstrip("/") + WEBHOOK_PATH,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    except TelegramError as error:
        log.error("could not register the Telegram webhook: %s", type(error).__name__)
    app.state.telegram = application
    try:
        yield
    finally:
        app.state.telegram = None
        await application.stop()
        await application.shutdown()


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    application: TelegramApplication | None = getattr(request.app.state, "telegram", None)
    if application is None:
        return Response(status_code=404)
    secret = get_settings().telegram_webhook_secret.encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, secret):
        return Response(status_code=403)
    try:
        data: Any = await request.json()
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError, AttributeError):
        return Response(status_code=400)
    if not await asyncio.to_thread(claim_update, update.update_id):
        return Response(status_code=200)  # a redelivery: acknowledged, not run again
    await application.update_queue.put(update)
    return Response(status_code=200)
