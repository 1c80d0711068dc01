"""Request size limits for every endpoint, enforced before a handler reads the body.

A declared Content-Length over the route's limit is refused at once; a body sent without
one (chunked) is counted as it arrives and cut off at the limit. The chat's JSON API allows
what its 10,000-character check needs in UTF-8 JSON, no more.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.child_texts import TOO_LONG_MESSAGE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
#: Longest path prefix wins.
LIMITS: dict[str, int] = {
    # 10,000 characters at up to 4 bytes each, JSON quoting and a payload field.
    "/chat/api/": 48 * KIB,
    "/chat/start": 2 * KIB,
    # Telegram updates are small; a message is at most 4,096 characters.
    "/telegram/webhook": 256 * KIB,
    # Staff review forms (the login form's fields are far smaller), and the children's CSV
    # import: a file of at most 200 KB (bot.services.child_import) with its form fields.
    "/review/": 16 * KIB,
    "/review/children/import": 256 * KIB,
    # A DSL's acknowledgement: two boxes of 3,000 characters (bot.services.concerns), each
    # character up to 9 bytes form-encoded.
    "/review/concerns/": 64 * KIB,
}
DEFAULT_LIMIT = 4 * KIB


def limit_for(path: str) -> int:
    matches = [prefix for prefix in LIMITS if path.startswith(prefix)]
    return LIMITS[max(matches, key=len)] if matches else DEFAULT_LIMIT


class BodyTooLarge(Exception):
    pass


class LimitRequestSize:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except* BodyTooLarge:
            # (except*: Starlette's middleware re-raises from inside a task group.)
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    body = json.dumps({"error": "too_large", "message": TOO_LONG_MESSAGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
