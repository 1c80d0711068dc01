"""Run by tests/engine/test_speedups.py with the engine's Python: what Rasa does (its check
of action server replies, its event classes by name), then the same with pep_engine.speedups
installed; prints both as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

REPLIES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "proud", "value": "my drawing"}], "responses": []},
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
    "not an object",
]


def outcomes() -> list[str]:
    action = RemoteAction("validate_reflection_form", None)
    found = []
    for reply in REPLIES:
        try:
            action._validate_action_result(reply)  # type: ignore[arg-type]
            found.append("valid")
        except ValidationError as error:
            found.append(error.message)
    return found


def event_classes() -> list[str]:
    names = [*sorted({c.type_name for c in all_subclasses(Event)}), "topic", "no_such_event"]
    found = []
    for _ in range(2):  # the second time from the speed-up's memory
        for name in names:
            try:
                found.append(repr(Event.resolve_by_type(name)))
            except ValueError as error:
                found.append(str(error))
        found.append(repr(Event.resolve_by_type("no_such_event", UserUttered)))
    return found


async def two_requests() -> dict[str, object]:
    """Two calls to one endpoint: their answers, and how many connections they took."""
    clients: set[object] = set()

    async def echo(request: web.Request) -> web.Response:
        clients.add(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"got": (await request.json())["n"]})

    app = web.Application()
    app.router.add_post("/webhook", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    answers = [await endpoint.request(json={"n": n}) for n in (1, 2)]
    await runner.cleanup()
    return {"answers": answers, "connections": len(clients)}


before = {
    "replies": outcomes(),
    "events": event_classes(),
    "requests": asyncio.run(two_requests()),
}
from pep_engine import speedups  # noqa: E402

speedups.install()
after = {
    "replies": outcomes(),
    "events": event_classes(),
    "requests": asyncio.run(two_requests()),
}
json.dump({"before": before, "after": after}, sys.stdout)
