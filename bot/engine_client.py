"""The app's client for the engine's REST channel, shared by the web chat and Telegram.

Only the app talks to the engine, which listens on loopback and takes a message only with
the app's token (`engine_headers`; the engine's side is pep_engine.channel). The app chooses
the sender id (the conversation id) server-side; a child never supplies one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.keys import shared_token
from bot.settings import get_settings
from pep_nlp.contract import SLASH_GUARD as SLASH_GUARD  # the channels' names for these
from pep_nlp.contract import Intent, intent_payload
from pep_nlp.contract import as_typed_text as as_typed_text
from pep_nlp.contract import without_guard as without_guard

#: The engine's channel for the app (pep_engine.channel.AppInput, in credentials.yml).
ENGINE_WEBHOOK_PATH = "/webhooks/app/webhook"

#: Starts (or resumes) a conversation the app has already linked to a PEP. It carries no
#: code: the engine's tracker store never holds one.
START_MESSAGE = intent_payload(Intent.start)


def engine_headers() -> dict[str, str]:
    """The header that tells the engine a message comes from the app (current key's token)."""
    return {"Authorization": f"Bearer {shared_token('engine')}"}


class EngineUnavailable(Exception):
    """The engine did not answer, or answered nothing (its action server was unreachable)."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    text: str = ""
    buttons: tuple[Button, ...] = ()

    @classmethod
    def from_rest(cls, raw: dict[str, Any]) -> BotMessage:
        return cls(
            text=str(raw.get("text") or ""),
            buttons=tuple(
                Button(str(b.get("title", "")), str(b.get("payload", "")))
                for b in raw.get("buttons") or []
            ),
        )


async def send_to_engine(
    sender_id: str,
    text: str,
    *,
    client: httpx.AsyncClient | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[BotMessage]:
    """Send one user message; return the bot's replies.

    Every turn of PEP Voice's conversation answers with at least one message, so an empty
    reply means the engine dropped the turn (Rasa carries on silently when the action
    server is down): the caller must tell the child and keep their text to send again.
    """
    url = get_settings().engine.url + ENGINE_WEBHOOK_PATH
    body: dict[str, Any] = {"sender": sender_id, "message": text}
    if metadata:
        body["metadata"] = metadata
    headers = engine_headers()
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=60) as own_client:
                response = await own_client.post(url, json=body, headers=headers)
        else:
            response = await client.post(url, json=body, headers=headers)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise EngineUnavailable(type(error).__name__) from error
    messages = [BotMessage.from_rest(raw) for raw in response.json() or []]
    if not messages:
        raise EngineUnavailable("empty reply")
    return messages
