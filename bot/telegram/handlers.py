"""The channel's handlers: each relays one thing the child did to the engine.

A message carrying a code or link token ("/start <token>" from a deep link, or a code typed
in the chat) is redeemed here, in the app, throttled per chat; the engine is then sent only
"/start", so no code or token ever reaches it. A refusal is answered with the one refusal
message, whatever the reason.

Polling handles updates one at a time (PTB's default) and the webhook one at a time per
chat, so a chat's messages reach the engine in the order the child sent them. No message
text is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Message, Update
from telegram.constants import ChatAction, MessageLimit
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InvalidCallbackData,
    MessageHandler,
    filters,
)

from bot.child_texts import (
    BUTTON_EXPIRED_MESSAGE,
    CHOOSE_PROMPT,
    NOT_SAVED_MESSAGE,
    NOT_TEXT_MESSAGE,
    THROTTLED_MESSAGE,
    YOU_CHOSE,
)
from bot.engine_client import (
    START_MESSAGE,
    BotMessage,
    EngineUnavailable,
    as_typed_text,
    send_to_engine,
)
from bot.services.invites import InviteError
from bot.services.telegram_chats import (
    current_conversation,
    link_chat,
    route,
    sync_link,
    telegram_client,
)
from bot.services.telegram_keyboards import button_payload
from bot.services.throttle import invite_throttle
from bot.telegram.keyboard import inline_keyboard, tapped_ids, title_of
from bot.telegram.messages import (
    HELP_INTENT,
    STOP_INTENT,
    secret_from_start_args,
    secret_in_text,
)

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
ENGINE_CLIENT = "engine_client"
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing…" for 5 s


async def open_engine_client(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init: one connection pool to the engine for the whole application."""
    application.bot_data[ENGINE_CLIENT] = httpx.AsyncClient(timeout=60)


async def close_engine_client(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    client = application.bot_data.pop(ENGINE_CLIENT, None)
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" until the block ends (the engine can take several seconds)."""

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_SECONDS)
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)

    with contextlib.suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send_reply(bot: Bot, chat_id: int, reply: BotMessage) -> None:
    """One bot message; its buttons become an inline keyboard under the last chunk."""
    text = reply.text or (CHOOSE_PROMPT if reply.buttons else "")
    if not text:
        return  # e.g. an image or custom payload only (not used): nothing a child could read
    limit = MessageLimit.MAX_TEXT_LENGTH
    chunks = [text[i : i + limit] for i in range(0, len(text), limit)]
    for chunk in chunks[:-1]:
        await bot.send_message(chat_id, chunk)
    # No parse_mode: the bot's words (which may quote the child's) are shown as plain text.
    keyboard = inline_keyboard(reply.buttons)
    await bot.send_message(chat_id, chunks[-1], reply_markup=keyboard)


async def relay(
    context: Context, chat_id: int, engine_text: str, conversation: str | None = None
) -> None:
    """Send one message to the engine in the chat's (current) conversation; relay every reply."""
    client = context.bot_data.get(ENGINE_CLIENT)
    try:
        if conversation is None:
            conversation = await asyncio.to_thread(current_conversation, chat_id)
        async with typing(context.bot, chat_id):
            replies = await send_to_engine(
                conversation,
                engine_text,
                client=client if isinstance(client, httpx.AsyncClient) else None,
            )
    except EngineUnavailable as error:
        # The engine saved nothing it did not confirm; the child sends it again.
        log.warning("engine unavailable for a Telegram chat: %s", error)
        await context.bot.send_message(chat_id, NOT_SAVED_MESSAGE)
        return
    try:
        await asyncio.to_thread(sync_link, chat_id, conversation)
    except SQLAlchemyError as error:
        # The answer is saved by the engine; only the reminder link is missed (retried next turn).
        log.warning("could not record the Telegram link: %s", type(error).__name__)
    for reply in replies:
        await send_reply(context.bot, chat_id, reply)
    if any(reply.buttons for reply in replies):
        # Keep the new buttons in the store now, not at PTB's next interval: a restart or
        # another instance may receive the tap.
        await context.application.update_persistence()


async def open_with_secret(
    context: Context, chat_id: int, secret: str, *, command: bool
) -> str | None:
    """A message carrying a code or link token: link the chat and start, or tell the child
    why not (returns None); or, for a code-like answer in a linked chat, the conversation to
    send it to as the child's words. A throttled chat's codes are not even looked up."""
    allowed = await asyncio.to_thread(invite_throttle().allowed, telegram_client(chat_id))
    if not allowed:
        await context.bot.send_message(chat_id, THROTTLED_MESSAGE)
        return None
    to = await asyncio.to_thread(route, chat_id, secret, command=command)
    if not to.starts:
        return to.conversation
    try:
        conversation = await asyncio.to_thread(link_chat, chat_id, secret, to.conversation)
    except InviteError as error:  # the same words for every refusal; the code goes nowhere
        await context.bot.send_message(chat_id, error.message)
        return None
    await relay(context, chat_id, START_MESSAGE, conversation)
    return None


async def on_start(update: Update, context: Context) -> None:
    """/start <token> from a t.me deep link (or /start <code>): link, then start. A plain
    /start resumes a linked chat; the engine asks an unlinked one for its code."""
    if update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    secret = secret_from_start_args(context.args or [])
    if secret is None:
        await relay(context, chat_id, START_MESSAGE)
        return
    await open_with_secret(context, chat_id, secret, command=True)


async def on_help(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await relay(context, update.effective_chat.id, HELP_INTENT)


async def on_stop(update: Update, context: Context) -> None:
    if update.effective_chat is not None:
        await relay(context, update.effective_chat.id, STOP_INTENT)


async def on_text(update: Update, context: Context) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    chat_id = message.chat_id
    conversation = None
    secret = secret_in_text(message.text)
    if secret is not None:
        conversation = await open_with_secret(context, chat_id, secret, command=False)
        if conversation is None:
            return  # linked and started, or told why not: the text goes nowhere
    await relay(context, chat_id, as_typed_text(message.text), conversation)


async def on_not_text(update: Update, context: Context) -> None:
    if update.message is not None:
        await update.message.reply_text(NOT_TEXT_MESSAGE)


async def _tapped(data: object) -> tuple[object, str | None]:
    """What identifies the tapped button in its message, and its payload (None: run out).

    PTB's cache gives the payload of a button this process knows. One it does not know
    (sent by another instance, or too old for memory) is looked up in the store.
    """
    if not isinstance(data, InvalidCallbackData):
        return data, data if isinstance(data, str) else None
    ids = tapped_ids(data)
    payload = None if ids is None else await asyncio.to_thread(button_payload, *ids)
    return data.callback_data, payload


async def on_button(update: Update, context: Context) -> None:
    """A tapped inline button: answer the tap, show the choice, send its payload."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    tapped, payload = await _tapped(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if payload is None or message is None:
        await query.answer(BUTTON_EXPIRED_MESSAGE)
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)
        return
    await query.answer()
    title = title_of(message.reply_markup, tapped)
    if title:
        try:
            # Editing without reply_markup also removes the keyboard: no second tap.
            await query.edit_message_text(f"{message.text or ''}\n\n✓ {title}".strip())
        except TelegramError:
            await context.bot.send_message(chat_id, f"{YOU_CHOSE} {title}")
    await relay(context, chat_id, payload)


#: While set (by `process_update`), handler failures are collected here.
_failures: ContextVar[list[BaseException] | None] = ContextVar("telegram_failures", default=None)


class UpdateFailed(Exception):
    """A handler raised while processing an update (the child was told, as always)."""


@contextlib.contextmanager
def _collecting_failures() -> Iterator[list[BaseException]]:
    failures: list[BaseException] = []
    token = _failures.set(failures)
    try:
        yield failures
    finally:
        _failures.reset(token)


async def process_update(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> None:
    """Run the update's handlers now; raise UpdateFailed if one raised (PTB hands handler
    errors to `on_error` and returns normally), so the webhook can ask for a redelivery."""
    with _collecting_failures() as failures:
        await application.process_update(update)
    if failures:
        raise UpdateFailed(type(failures[0]).__name__) from failures[0]


async def on_error(update: object, context: Context) -> None:
    """Log the failure (never the update: it holds the child's words) and tell the child."""
    log.error("Telegram update failed: %s", type(context.error).__name__, exc_info=context.error)
    failures = _failures.get()
    if failures is not None and context.error is not None:
        failures.append(context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, NOT_SAVED_MESSAGE)


def add_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Private chats only: a group could otherwise link a child's PEP to everyone in it.
    new_private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", on_start, filters=new_private))
    application.add_handler(CommandHandler("help", on_help, filters=new_private))
    application.add_handler(CommandHandler("stop", on_stop, filters=new_private))
    # Any other text, "/skip" included, is the child's words (escaped in on_text).
    application.add_handler(MessageHandler(new_private & filters.TEXT, on_text))
    application.add_handler(MessageHandler(new_private & filters.ATTACHMENT, on_not_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
