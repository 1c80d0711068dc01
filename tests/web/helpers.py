"""Helpers for the web chat tests: a fake engine, clients, fresh PEPs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from bot import db
from bot.engine_client import BotMessage
from bot.services.answers import submit_voice
from bot.services.directory import add_child, add_pep, add_school
from bot.services.invites import issue_invite
from bot.settings import get_settings
from bot.web.app import app

CSRF = {"X-PEP-Voice": "1"}


def client(https: bool = False) -> TestClient:
    base = "https://testserver" if https else "http://testserver"
    return TestClient(app, base_url=base, follow_redirects=False)


def new_pep(
    year_group: int = 5, *, expired: bool = False, submitted: bool = False
) -> tuple[int, str]:
    with db.session_scope() as session:
        school = add_school(session, f"School {uuid.uuid4().hex[:8]}")
        child = add_child(session, school.name, "Alex", year_group)
        pep = add_pep(session, child.id, "2030-01-15")
        now = None
        if expired:
            from bot.models import utcnow

            now = utcnow() - timedelta(days=get_settings().invite_ttl_days + 1)
        code = issue_invite(session, pep, now)
        if submitted:
            submit_voice(session, pep)
        return pep.id, code


class FakeEngine:
    """Stands in for send_to_engine: records what the app sent, answers from a script."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.replies: list[list[BotMessage] | Exception] = []

    async def __call__(self, sender_id: str, text: str, **_: Any) -> list[BotMessage]:
        self.sent.append((sender_id, text))
        reply = self.replies.pop(0) if self.replies else [BotMessage("OK")]
        if isinstance(reply, Exception):
            raise reply
        return reply


def linked(code: str, c: TestClient | None = None) -> TestClient:
    c = c or client()
    response = c.get("/chat", params={"code": code})
    assert response.status_code == 303, response.text
    return c


def started(code: str, fake: FakeEngine, c: TestClient | None = None) -> TestClient:
    c = linked(code, c)
    fake.replies.append([BotMessage("Hi! I'm PEP Voice."), BotMessage("What's been going well?")])
    assert c.post("/chat/api/start", headers=CSRF).status_code == 200
    return c
