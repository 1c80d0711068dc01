"""The engine's only input channel: the REST webhook, for PEP Voice's own app and no one else.

Registered in credentials.yml as `pep_engine.channel.AppInput`; Rasa serves it at
`/webhooks/app/webhook`. It is Rasa's REST channel (`RestInput`) with three changes:

- A message is taken only with `Authorization: Bearer <token>`, the token one of those in
  `PEP_VOICE_ENGINE_TOKENS` (comma-separated; `bot.engine_launch` sets it from SECRET_KEY
  and the keys still accepted after a rotation). Anything else gets 401 before its body is
  read. With no tokens set the engine refuses every message, and says so once at start.
- The body is capped (`MAX_BODY_BYTES`; 413 beyond, with the connection closed), and must be
  a JSON object with a string `sender` and `message` (400 otherwise).
- A turn that fails is logged by exception type only. RestInput logs the message text with
  the whole exception, locals included.

`?stream=true` is not offered: the app never streams, and a streamed turn's failure would
escape the logging above.

Importing this module installs `pep_engine.logs` (redaction of every log record),
`pep_engine.speedups` (Rasa's per-turn work done once) and `pep_engine.action_calls` (only
the latest events to the action server).
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
import os
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from pep_engine import action_calls, logs, speedups

logs.install()
speedups.install()
action_calls.install()

logger = logging.getLogger(__name__)

TOKENS_ENV = "PEP_VOICE_ENGINE_TOKENS"
#: One message with its metadata is well under 10 KB; the app caps what a child types.
MAX_BODY_BYTES = 64 * 1024
#: Rasa's SQL tracker store keeps sender ids in a VARCHAR(255).
MAX_SENDER_LENGTH = 255


def tokens_from_env() -> tuple[bytes, ...]:
    raw = os.environ.get(TOKENS_ENV, "")
    return tuple(t.strip().encode() for t in raw.split(",") if t.strip())


class AppInput(RestInput):  # type: ignore[misc]
    """Rasa's REST channel for the PEP Voice app only (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return "app"

    def __init__(self, tokens: tuple[bytes, ...] | None = None) -> None:
        self._tokens = tokens_from_env() if tokens is None else tokens
        if not self._tokens:
            logger.error(
                "%s is not set: the engine will refuse every message. Start it with "
                "'python -m bot.engine_launch', which sets it.",
                TOKENS_ENV,
            )

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AppInput:
        return cls()

    def is_authorised(self, request: Request) -> bool:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return False
        candidate = presented.strip().encode()
        matched = False
        for token in self._tokens:  # no early exit: the time taken says nothing
            matched |= hmac.compare_digest(candidate, token)
        return matched

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        # The type: ignores are for the app environment's mypy, which sees its own Sanic (25),
        # not the engine's (21.12), and no Rasa.
        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # stream=True: Sanic hands over before reading the body, so a caller without the
        # token is refused unread, and the cap below replaces Sanic's 100 MB.
        @webhook.route("/webhook", methods=["POST"], stream=True)  # type: ignore[untyped-decorator]
        async def receive(request: Request) -> HTTPResponse:
            if request.stream is not None:
                request.stream.request_max_size = MAX_BODY_BYTES
            if not self.is_authorised(request):
                logger.warning("refused a message: no valid engine token")
                return response.json(
                    {"error": "unauthorised"}, status=401, headers={"WWW-Authenticate": "Bearer"}
                )
            try:
                await request.receive_body()  # type: ignore[no-untyped-call]
            except PayloadTooLarge:
                logger.warning("refused a message: body over %d bytes", MAX_BODY_BYTES)
                return response.json({"error": "too large"}, status=413)
            parsed = _parse(request.body)
            if parsed is None:
                logger.warning("refused a message: not a JSON object with sender and message")
                return response.json({"error": "bad request"}, status=400)
            sender_id, text, metadata = parsed

            collector = CollectingOutputChannel()
            with logs.handling(text):
                try:
                    await on_new_message(
                        UserMessage(
                            text,
                            collector,
                            sender_id,
                            input_channel=self.name(),
                            metadata=metadata,
                        )
                    )
                except CancelledError:
                    logger.error("a message timed out (text withheld)")
                except Exception as error:
                    logger.error(
                        "a message could not be handled: %s (text withheld)",
                        type(error).__name__,
                    )
            return response.json(collector.messages)

        return webhook


def _parse(body: bytes) -> tuple[str, str, dict[str, Any] | None] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    sender, text, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if not isinstance(sender, str) or not sender or len(sender) > MAX_SENDER_LENGTH:
        return None
    if not isinstance(text, str) or not (metadata is None or isinstance(metadata, dict)):
        return None
    return sender, text, metadata
