"""The one PTB Application: polling for local runs, webhook (no updater) in the web app."""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot.settings import Settings, get_settings
from bot.telegram.handlers import add_handlers, close_engine_client, open_engine_client
from bot.telegram.persistence import KEYBOARDS_IN_MEMORY, StoreCallbackData

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]
# Only what the handlers use, so Telegram sends nothing else.
ALLOWED_UPDATES = ["message", "callback_query"]


def file_base_url(base_url: str) -> str:
    """https://api.telegram.org/bot -> https://api.telegram.org/file/bot"""
    head, sep, _ = base_url.rpartition("/bot")
    return f"{head}/file/bot" if sep else base_url


def build_application(settings: Settings | None = None, *, polling: bool) -> TelegramApplication:
    settings = settings or get_settings()
    if not settings.telegram.enabled:
        raise RuntimeError("TELEGRAM_TOKEN is not set")
    builder = (
        Application.builder()
        .token(settings.telegram.token.get_secret_value())
        .base_url(settings.telegram.base_url)
        .base_file_url(file_base_url(settings.telegram.base_url))
        # Buttons carry ids; PTB maps them to payloads, kept in the store across restarts.
        .arbitrary_callback_data(KEYBOARDS_IN_MEMORY)
        .persistence(StoreCallbackData())
        .post_init(open_engine_client)
        .post_shutdown(close_engine_client)
    )
    if not polling:
        # Webhook: bot.telegram.webhook processes each update in its request.
        builder = builder.updater(None)
    application: TelegramApplication = builder.build()
    add_handlers(application)
    return application


def build_bot(settings: Settings | None = None) -> Bot:
    """A bare Bot for one-off jobs (reminders)."""
    settings = settings or get_settings()
    if not settings.telegram.enabled:
        raise RuntimeError("TELEGRAM_TOKEN is not set")
    return Bot(
        settings.telegram.token.get_secret_value(),
        base_url=settings.telegram.base_url,
        base_file_url=file_base_url(settings.telegram.base_url),
    )
