"""A local fake Telegram Bot API (and, optionally, a fake engine) over real HTTP.

PTB is pointed at it with base_url http://127.0.0.1:<port>/bot. It serves a queue of
injected updates through getUpdates, answers the methods the channel calls with valid
objects, and records every request, so tests assert on what reached "Telegram".
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.engine_client import ENGINE_WEBHOOK_PATH, engine_headers
from bot.telegram.application import TelegramApplication

BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "PEP Voice", "username": "pep_voice_bot"}
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")

EngineReply = Callable[[str, str], list[dict[str, Any]]]


@dataclass
class Call:
    method: str
    params: dict[str, Any]


def _value(raw: str) -> Any:
    # PTB sends strings as they are and everything else JSON-encoded.
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-TOKEN"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    engine_requests: list[dict[str, Any]] = field(default_factory=list)
    engine_reply: EngineReply | None = None
    fail_methods: dict[str, tuple[int, str]] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _next_update_id: int = 1000
    _next_message_id: int = 1
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeBotApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                status, result = api._handle(
                    self.path,
                    self.headers.get("Content-Type", ""),
                    body,
                    self.headers.get("Authorization", ""),
                )
                payload = json.dumps(result).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for the loop to look at its flag: every 0.5 s by default, which
        # was half a second of every test's teardown.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- injecting updates -----------------------------------------------------------------
    def new_update_id(self) -> int:
        with self._lock:
            self._next_update_id += 1
            return self._next_update_id

    def message_update(self, chat_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Child"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Child"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self.new_update_id(), "message": message}

    def callback_update(self, chat_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        return {
            "update_id": self.new_update_id(),
            "callback_query": {
                "id": f"cq{self.new_update_id()}",
                "from": {"id": chat_id, "is_bot": False, "first_name": "Child"},
                "chat_instance": "ci",
                "data": data,
                "message": message,
            },
        }

    def push(self, update: dict[str, Any]) -> None:
        """Serve `update` through getUpdates (polling mode)."""
        with self._lock:
            self.updates.append(update)
            self._lock.notify_all()

    def send_text(self, chat_id: int, text: str) -> None:
        self.push(self.message_update(chat_id, text))

    # -- reading what the bot did ----------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (as the fake returned them), oldest first; not the failed."""
        return [
            c.params["_result"]
            for c in self.calls_to("sendMessage")
            if "_result" in c.params and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [m["text"] for m in self.sent(chat_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; calls: {[c.method for c in self.calls]}")

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30) -> list[str]:
        self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent_texts(chat_id)

    # -- the server side -------------------------------------------------------------------
    def _new_message_id(self) -> int:
        with self._lock:
            self._next_message_id += 1
            return self._next_message_id

    def _handle(
        self, path: str, content_type: str, body: str, authorization: str = ""
    ) -> tuple[int, Any]:
        if path == ENGINE_WEBHOOK_PATH:
            return self._engine(json.loads(body), authorization)
        match = _PATH.match(path)
        if match is None or match["token"] != self.token:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = match["method"]
        if "json" in content_type:
            params = json.loads(body or "{}")
        else:
            params = {k: _value(v) for k, v in parse_qsl(body, keep_blank_values=True)}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
        if method in self.fail_methods:
            code, description = self.fail_methods[method]
            return code, {"ok": False, "error_code": code, "description": description}
        result = self._result(method, params)
        params["_result"] = result
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 0.5)
        with self._lock:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if not ready and wait:
                self._lock.wait(wait)
                ready = [u for u in self.updates if u["update_id"] >= offset]
            return ready

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}  # fmt: skip
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"]) if "chat_id" in params else 0
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id") or self._new_message_id()),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Child"},
                "from": BOT_USER,
                "text": str(params["text"]),
            }
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return message
        return True  # sendChatAction, answerCallbackQuery, setWebhook, deleteWebhook, ...

    def _engine(self, body: dict[str, Any], authorization: str) -> tuple[int, Any]:
        # Like the engine's app channel: only the app, with its token, may post.
        if authorization != engine_headers()["Authorization"]:
            return 401, {"error": "unauthorized"}
        with self._lock:
            self.engine_requests.append(body)
        if self.engine_reply is None:
            return 200, [{"recipient_id": body["sender"], "text": "ok"}]
        return 200, self.engine_reply(body["sender"], body["message"])


@asynccontextmanager
async def run_polling(application: TelegramApplication) -> AsyncIterator[TelegramApplication]:
    """Run a PTB application in polling mode against the fake API for the block's duration."""
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
