"""Run the rasa-sdk action server on loopback, without echoing trackers in error replies.

rasa-sdk's own runner listens on 0.0.0.0 and answers a failed call with the whole request
(the child's conversation) in the body; both are wrong for children's data.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.alerts import resume_pending_alerts
from pep_nlp.safeguarding import default_screen

logger = logging.getLogger(__name__)


def build_app(actions_package: str = "actions") -> Sanic[Any, Any]:
    executor = ActionExecutor()
    executor.register_package(actions_package)
    app: Sanic[Any, Any] = create_app(executor, cors_origins="")

    async def hide_request_on_error(request: Request, exception: Exception) -> HTTPResponse:
        logger.error("action call failed: %s", type(exception).__name__)
        return json({"error": "action failed"}, status=500)

    # rasa-sdk's catch-all handler echoes the request; a handler bound to each route wins.
    route_names = sorted({route.name for route in app.router.routes})
    app.error_handler.add(Exception, hide_request_on_error, route_names=route_names)
    app.before_server_start(_prepare)
    return app


async def _prepare(app: Sanic[Any, Any]) -> None:
    # Build the safeguarding screen now, not on a child's first answer; and send any
    # alert a previous run could not deliver.
    await asyncio.to_thread(default_screen)
    resume_pending_alerts()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="PEP Voice action server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build_app().run(host=args.host, port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
