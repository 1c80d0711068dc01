"""Run the rasa-sdk action server on loopback, for our engine only, without echoing trackers.

rasa-sdk's own runner listens on 0.0.0.0, runs an action for anyone who can reach it, and
answers a failed call with the whole request (the child's conversation) in the body; all
three are wrong for children's data. Here:

- `/webhook` and `/actions` need the header `X-PEP-Voice-Token` carrying one of
  `accepted_tokens("actions")` (the engine sends the current key's; bot.engine_launch puts
  it in the engine's endpoints file), else 403. `/health` stays open for the app's health
  check. Refusals are logged without bodies.
- A request body is capped at `MAX_BODY_BYTES` (Sanic's REQUEST_MAX_SIZE; 413), and a
  compressed one at `MAX_INFLATED_BYTES` once inflated (413): rasa-sdk inflates a
  `Content-Encoding: deflate` body with an unbounded `zlib.decompress`, so a small
  "zip bomb" would otherwise fill the memory. Rasa 3.6 compresses only when the engine has
  COMPRESS_ACTION_SERVER_REQUEST=true, and then as deflate (zlib); other encodings get 415.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import zlib
from collections.abc import Sequence
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.keys import accepted_tokens
from pep_nlp.safeguarding import default_screen

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-PEP-Voice-Token"
OPEN_PATHS = frozenset({"/health"})
#: A long conversation's tracker and the domain, uncompressed, with room to spare.
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INFLATED_BYTES = 8 * 1024 * 1024


def build_app(
    actions_package: str = "actions", tokens: Sequence[str] | None = None
) -> Sanic[Any, Any]:
    executor = ActionExecutor()
    executor.register_package(actions_package)
    app: Sanic[Any, Any] = create_app(executor, cors_origins="")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    accepted = tuple(t.encode() for t in (accepted_tokens("actions") if tokens is None else tokens))

    async def only_our_engine(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not _token_ok(request.headers.get(TOKEN_HEADER), accepted):
            logger.warning("refused a call to %s: no valid token", request.path)
            return json({"error": "forbidden"}, status=403)
        encoding = request.headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return None
        if encoding != "deflate":
            logger.warning("refused a call to %s: content encoding %r", request.path, encoding)
            return json({"error": "unsupported content encoding"}, status=415)
        inflated = inflated_size(request.body, MAX_INFLATED_BYTES)
        if inflated is None:
            logger.warning("refused a call to %s: body is not deflate data", request.path)
            return json({"error": "bad request"}, status=400)
        if inflated > MAX_INFLATED_BYTES:
            logger.warning(
                "refused a call to %s: body inflates past %d bytes",
                request.path,
                MAX_INFLATED_BYTES,
            )
            return json({"error": "too large"}, status=413)
        return None

    app.register_middleware(only_our_engine, "request")

    async def hide_request_on_error(request: Request, exception: Exception) -> HTTPResponse:
        logger.error("action call failed: %s", type(exception).__name__)
        return json({"error": "action failed"}, status=500)

    async def keep_status(request: Request, exception: SanicException) -> HTTPResponse:
        # Sanic's own refusals (413 over REQUEST_MAX_SIZE, 404, 405...): their status, and
        # not rasa-sdk's catch-all, which answers 500 with the request body in it.
        status = int(getattr(exception, "status_code", 500))
        logger.warning(
            "refused a call to %s: %d %s", request.path, status, type(exception).__name__
        )
        return json({"error": "refused"}, status=status)

    # rasa-sdk's catch-all handler echoes the request; a handler bound to each route wins.
    route_names = sorted({route.name for route in app.router.routes})
    app.error_handler.add(Exception, hide_request_on_error, route_names=route_names)
    app.error_handler.add(SanicException, keep_status, route_names=route_names)
    app.error_handler.add(SanicException, keep_status)
    app.before_server_start(_prepare)
    return app


def _token_ok(presented: str | None, accepted: Sequence[bytes]) -> bool:
    if not presented:
        return False
    candidate = presented.strip().encode()
    matched = False
    for token in accepted:  # no early exit: the time taken says nothing
        matched |= hmac.compare_digest(candidate, token)
    return matched


def inflated_size(body: bytes, limit: int) -> int | None:
    """How many bytes deflate (zlib) `body` inflates to, counting stops just past `limit`.

    Inflated in bounded steps and thrown away, so a bomb costs at most `limit` bytes of
    work; None if `body` is not a complete zlib stream (rasa-sdk's zlib.decompress would
    fail on it).
    """
    inflater = zlib.decompressobj()
    total = 0
    pending = body
    try:
        while True:
            total += len(inflater.decompress(pending, limit + 1 - total))
            pending = inflater.unconsumed_tail
            if total > limit:
                return total
            if not pending:
                break
        total += len(inflater.flush())
    except zlib.error:
        return None
    return total if inflater.eof else None


async def _prepare(app: Sanic[Any, Any]) -> None:
    # Build the safeguarding screen now, not on a child's first answer. (Alerts are the
    # scheduler's: bot.alerts.delivery.)
    await asyncio.to_thread(default_screen)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="PEP Voice action server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build_app().run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
