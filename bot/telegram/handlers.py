"""The channel's handlers: each relays one thing the child did to the engine.

Updates are handled one at a time (PTB's default), so a chat's messages reach the engine in
the order the child sent them. No message text is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
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
    MessageHandler,
    filters,
)

from bot.engine_client import (
    NOT_SAVED_MESSAGE,
    BotMessage,
    EngineUnavailable,
    as_typed_text,
    send_to_engine,
    start_message,
)
from bot.security import find_code
from bot.telegram.keyboard import ButtonPayloads, inline_keyboard, title_of
from bot.telegram.links import current_conversation, route, sync_link
from bot.telegram.messages import (
    BUTTON_EXPIRED_MESSAGE,
    CHOOSE_PROMPT,
    GREET_INTENT,
    HELP_INTENT,
    NOT_TEXT_MESSAGE,
    STOP_INTENT,
    code_from_start_args,
)

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
ENGINE_CLIENT = "engine_client"
BUTTON_PAYLOADS = "button_payloads"
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing…" for 5 s


async def open_engine_client(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init: one connection pool to the engine for the whole application."""
    application.bot_data[ENGINE_CLIENT] = httpx.AsyncClient(timeout=60)
    application.bot_data[BUTTON_PAYLOADS] = ButtonPayloads()


async def close_engine_client(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    client = application.bot_data.pop(ENGINE_CLIENT, None)
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()


def _payloads(context: Context) -> ButtonPayloads:
    payloads = context.bot_data.setdefault(BUTTON_PAYLOADS, ButtonPayloads())
    assert isinstance(payloads, ButtonPayloads)
    return payloads


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


async def send_reply(bot: Bot, chat_id: int, reply: BotMessage, payloads: ButtonPayloads) -> None:
    """One bot message; its buttons become an inline keyboard under the last chunk."""
    text = reply.text or (CHOOSE_PROMPT if reply.buttons else "")
    if not text:
        return  # e.g. a custom payload only: nothing a child could read
    limit = MessageLimit.MAX_TEXT_LENGTH
    chunks = [text[i : i + limit] for i in range(0, len(text), limit)]
    for chunk in chunks[:-1]:
        await bot.send_message(chat_id, chunk)
    # No parse_mode: the bot's words (which may quote the child's) are shown as plain text.
    keyboard = inline_keyboard(reply.buttons, payloads)
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
    payloads = _payloads(context)
    for reply in replies:
        await send_reply(context.bot, chat_id, reply, payloads)


async def on_start(update: Update, context: Context) -> None:
    """/start, or /start <code> from a t.me deep link: the code's own conversation."""
    if update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    code = code_from_start_args(context.args or [])
    if code is None:
        await relay(context, chat_id, GREET_INTENT)
        return
    to = await asyncio.to_thread(route, chat_id, code, command=True)
    await relay(context, chat_id, start_message(code), to.conversation)


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
    code = find_code(message.text)
    # A code typed before the chat is linked links it, however it is phrased, and a code for
    # another PEP starts that PEP's conversation; otherwise a code-like answer is kept as
    # the child's words.
    to = await asyncio.to_thread(route, chat_id, code)
    text = start_message(code) if to.starts and code else as_typed_text(message.text)
    await relay(context, chat_id, text, to.conversation)


async def on_not_text(update: Update, context: Context) -> None:
    if update.message is not None:
        await update.message.reply_text(NOT_TEXT_MESSAGE)


async def on_button(update: Update, context: Context) -> None:
    """A tapped inline button: answer the tap, show the choice, send its payload."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    payload = _payloads(context).payload_for(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if payload is None or message is None:
        await query.answer(BUTTON_EXPIRED_MESSAGE)
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)
        return
    await query.answer()
    title = title_of(message.reply_markup, query.data)
    if title:
        try:
            # Editing without reply_markup also removes the keyboard: no second tap.
            await query.edit_message_text(f"{message.text or ''}\n\n✓ {title}".strip())
        except TelegramError:
            await context.bot.send_message(chat_id, f"You chose: {title}")
    await relay(context, chat_id, payload)


async def on_error(update: object, context: Context) -> None:
    """Log the failure (never the update: it holds the child's words) and tell the child."""
    log.error("Telegram update failed: %s", type(context.error).__name__, exc_info=context.error)
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
