"""PTB's callback-data cache, kept in the store: buttons survive a restart.

Telegram allows 64 bytes of callback data and Rasa payloads such as
'/inform{"answered_by":"with_carer"}' can be longer, so the Application runs with PTB's
arbitrary callback data: a button carries two random ids and PTB's cache maps them back to
the payload. This persistence stores only that cache (no bot, chat or user data), through
`bot.services.telegram_keyboards`: `get_callback_data` loads the newest keyboards when the
Application starts, and `update_callback_data` writes the keyboards that are new or were
used since the last write. A store that cannot be read or written is logged, not raised:
the channel still starts, new buttons work until the next restart, and the update that
sent them is not run again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import BasePersistence, PersistenceInput

from bot.services.telegram_keyboards import SavedKeyboard, recent_keyboards, save_keyboards

log = logging.getLogger(__name__)

#: Keyboards PTB keeps in memory (the store keeps more: `telegram_keyboards.KEYBOARDS_KEPT`).
KEYBOARDS_IN_MEMORY = 1024
#: How often PTB writes the cache on its own; the handlers also write after sending buttons.
UPDATE_SECONDS = 60

Data = dict[Any, Any]
# PTB's shapes (telegram.ext._utils.types, private): the cache's keyboards as
# (keyboard id, last use, {button id: data}), and callback query id -> keyboard id.
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class StoreCallbackData(BasePersistence[Data, Data, Data]):
    def __init__(self) -> None:
        only_callback_data = PersistenceInput(
            bot_data=False, chat_data=False, user_data=False, callback_data=True
        )
        super().__init__(store_data=only_callback_data, update_interval=UPDATE_SECONDS)
        self._written: dict[str, float] = {}  # keyboard id -> last use, as the store has it

    async def get_callback_data(self) -> CDCData:
        try:
            keyboards = await asyncio.to_thread(recent_keyboards, KEYBOARDS_IN_MEMORY)
        except SQLAlchemyError as error:
            # Start all the same: a tap on an older button is looked up again, or asks to type.
            log.error("could not load kept Telegram buttons: %s", type(error).__name__)
            keyboards = []
        self._written = {k.keyboard_id: k.used_at for k in keyboards}
        return [(k.keyboard_id, k.used_at, dict(k.buttons)) for k in keyboards], {}

    async def update_callback_data(self, data: CDCData) -> None:
        cached, _queries = data  # query ids only serve drop_callback_data, which is not used
        changed = [
            SavedKeyboard(keyboard_id, used_at, _payloads(buttons))
            for keyboard_id, used_at, buttons in cached
            if self._written.get(keyboard_id) != used_at
        ]
        if changed:
            try:
                await asyncio.to_thread(save_keyboards, changed)
            except SQLAlchemyError as error:
                log.error("could not keep Telegram buttons: %s", type(error).__name__)
                return
        self._written = {keyboard_id: used_at for keyboard_id, used_at, _ in cached}

    # Nothing else is kept.
    async def get_user_data(self) -> dict[int, Data]:
        return {}

    async def get_chat_data(self) -> dict[int, Data]:
        return {}

    async def get_bot_data(self) -> Data:
        return {}

    async def get_conversations(self, name: str) -> ConversationDict:
        return {}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        pass

    async def update_user_data(self, user_id: int, data: Data) -> None:
        pass

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        pass

    async def update_bot_data(self, data: Data) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        pass

    async def refresh_bot_data(self, bot_data: Data) -> None:
        pass

    async def flush(self) -> None:
        pass


def _payloads(buttons: dict[str, object]) -> dict[str, str]:
    # The keyboards hold Rasa payloads (str) only; `bot.telegram.keyboard` makes them.
    return {button_id: p for button_id, p in buttons.items() if isinstance(p, str)}
