"""Web chat sessions: the cookie that binds a browser to one conversation for a while.

The cookie holds only a random session id, signed with a key id (`bot.keys.sign`); no child
text, no PEP id. It is a browser-session cookie (no expiry date), and the server forgets a
session unused for `web_idle_minutes`: on a shared tablet the next person finds the code
page, not the last child's chat. A session exists only once a code or link has been
redeemed.

The engine's sender id (the conversation) is derived from the invite with the deployment's
key, never from the browser: each invite has its own conversation, so a second child's code
in the same browser starts a new one, and a child who comes back later (or after an app
restart) with their code or link carries on where they left off. A new invite for the PEP
revokes the old one, and with it the old conversation. A session is made afresh for every
code redeemed.

The transcript holds the child's words: it lives in memory only, is never logged, and keeps
no safeguarding disclosure (`bot.web.transcript`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine_client import BotMessage
from bot.keys import sign, unsign
from bot.security import keyed_hashes
from bot.settings import get_settings
from bot.web.transcript import is_disclosure_check, is_disclosure_response

COOKIE_NAME = "pepvoice_chat"


def bot_entry(message: BotMessage) -> dict[str, Any]:
    return {
        "sender": "bot",
        "text": message.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
    }


@dataclass
class WebSession:
    session_id: str
    sender_id: str
    pep_id: int | None = None
    # Whether the engine has been told to start (the app linked the conversation already).
    started: bool = False
    transcript: list[dict[str, Any]] = field(default_factory=list)
    last_seen: float = 0.0
    # payload -> title of the buttons the bot offered in its latest turn.
    offered: dict[str, str] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _next_id: int = 1

    def _entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"id": self._next_id, **entry}
        self._next_id += 1
        return entry

    def add_turn(self, child_text: str | None, replies: list[BotMessage]) -> list[dict[str, Any]]:
        """Record one turn; return its entries, to show now.

        A disclosure is shown once and never kept: the child's message the bot answered
        with the disclosure response is dropped, and so is that response; when the bot
        asks whether a message was a disclosure, the message is dropped. The bot's other
        replies (the question that follows, its buttons) are kept.
        """
        disclosure = any(is_disclosure_response(m.text) for m in replies)
        checking = any(is_disclosure_check(m.text) for m in replies)
        # Only the latest turn's buttons can be tapped; earlier ones are answered already.
        for kept in self.transcript:
            kept["buttons"] = []
        shown: list[dict[str, Any]] = []
        if child_text is not None:
            shown.append(self._entry({"sender": "child", "text": child_text, "buttons": []}))
            if not (disclosure or checking):
                self.transcript.append(shown[-1])
        for message in replies:
            shown.append(self._entry(bot_entry(message)))
            if not is_disclosure_response(message.text):
                self.transcript.append(shown[-1])
        self.offered = {}
        for entry in shown:
            for button in entry["buttons"]:
                self.offered.setdefault(button["payload"], button["title"])
        return shown

    def offered_buttons(self) -> dict[str, str]:
        """payload -> title of the buttons in the bot's latest turn (the only ones tappable)."""
        return dict(self.offered)

    def forget_transcript(self) -> None:
        self.transcript.clear()


def conversations_for_invite(invite_id: int) -> list[str]:
    """The engine's conversation for an invite in the web chat, under each key in the ring
    (current first; `bot.services.conversation` keeps the one already linked)."""
    return ["web-" + h[:40] for h in keyed_hashes(f"web-sender:invite:{invite_id}")]


def cookie_value(session_id: str) -> str:
    return sign("web-session", session_id)


def session_id_from(cookie: str | None) -> str | None:
    """The session id in a cookie value, if it was signed by a key in the ring."""
    return unsign("web-session", cookie)


class SessionStore:
    """Sessions of this process, by session id; idle ones are forgotten."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: dict[str, WebSession] = {}
        self.clock = clock

    def new(self, sender_id: str) -> WebSession:
        self._prune()
        session_id = secrets.token_urlsafe(24)
        session = WebSession(session_id, sender_id, last_seen=self.clock())
        self._sessions[session_id] = session
        return session

    def get(self, session_id: str) -> WebSession | None:
        """The live session for a signed id; None once it has been idle too long or ended."""
        self._prune()
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = self.clock()
        return session

    def end(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def clear(self) -> None:
        self._sessions.clear()

    def _prune(self) -> None:
        horizon = self.clock() - get_settings().web.idle_minutes * 60
        for key in [k for k, s in self._sessions.items() if s.last_seen < horizon]:
            del self._sessions[key]


store = SessionStore()
