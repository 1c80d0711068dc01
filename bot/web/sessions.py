"""Web chat sessions: the cookie that binds a browser to one conversation.

The cookie holds only a random session id and its HMAC (`bot.security.keyed_hash`); no child
text, no PEP id. The engine's sender id is derived from the session id with the deployment's
secret key, so it is unguessable, never comes from the client, and survives an app restart
(the engine's tracker and the store keep the conversation; only the displayed transcript,
kept in this process's memory, is lost then).

The transcript holds the child's words: it lives in memory only, is never logged, and is
dropped when the session has been idle for `web_session_days`.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bot.security import keyed_hash
from bot.settings import get_settings

COOKIE_NAME = "pepvoice_chat"


@dataclass
class WebSession:
    session_id: str
    sender_id: str
    pep_id: int | None = None
    # The invite code, held in memory only until the engine has been sent /start with it.
    pending_code: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    last_seen: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"id": len(self.transcript) + 1, **entry}
        self.transcript.append(entry)
        return entry

    def offered_buttons(self) -> dict[str, str]:
        """payload -> title of the buttons in the bot's latest turn (the only ones tappable)."""
        offered: dict[str, str] = {}
        for entry in reversed(self.transcript):
            if entry["sender"] != "bot":
                break
            for button in entry.get("buttons", []):
                offered.setdefault(button["payload"], button["title"])
        return offered


def sender_for(session_id: str) -> str:
    return "web-" + keyed_hash("web-sender:" + session_id)[:40]


def sign(session_id: str) -> str:
    return f"{session_id}.{keyed_hash('web-session:' + session_id)}"


def unsign(cookie: str | None) -> str | None:
    """The session id in a cookie value, if its signature is ours."""
    if not cookie or cookie.count(".") != 1:
        return None
    session_id, mac = cookie.split(".")
    if not session_id or not hmac.compare_digest(mac, keyed_hash("web-session:" + session_id)):
        return None
    return session_id


class SessionStore:
    """Sessions of this process, by session id; idle ones are forgotten."""

    def __init__(self) -> None:
        self._sessions: dict[str, WebSession] = {}

    def new(self) -> WebSession:
        session_id = secrets.token_urlsafe(24)
        session = WebSession(session_id, sender_for(session_id))
        self._sessions[session_id] = session
        return session

    def get(self, session_id: str) -> WebSession:
        """The session for a signed id, recreated (empty transcript) after a restart."""
        self._prune()
        session = self._sessions.get(session_id)
        if session is None:
            session = WebSession(session_id, sender_for(session_id))
            self._sessions[session_id] = session
        session.last_seen = time.monotonic()
        return session

    def clear(self) -> None:
        self._sessions.clear()

    def _prune(self) -> None:
        horizon = time.monotonic() - get_settings().web_session_days * 86400
        for key in [k for k, s in self._sessions.items() if s.last_seen < horizon]:
            del self._sessions[key]


store = SessionStore()
