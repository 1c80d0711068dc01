"""Helpers for the web chat tests: a fake engine, clients, fresh PEPs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from httpx import Response

from bot import db
from bot.engine_client import BotMessage
from bot.services.answers import submit_voice
from bot.services.invites import NewInvite, issue_invite, new_invite
from bot.settings import get_settings
from bot.web.app import app
from tests.factories import child_pep

CSRF = {"X-PEP-Voice": "1"}


def client(https: bool = False) -> TestClient:
    base = "https://testserver" if https else "http://testserver"
    return TestClient(app, base_url=base, follow_redirects=False)


def new_pep(
    year_group: int = 5, *, expired: bool = False, submitted: bool = False
) -> tuple[int, str]:
    with db.session_scope() as session:
        pep = child_pep(session, year_group=year_group)
        now = None
        if expired:
            from bot.models import utcnow

            now = utcnow() - timedelta(days=get_settings().invites.ttl_days + 1)
        code = issue_invite(session, pep, now)
        if submitted:
            submit_voice(session, pep)
        return pep.id, code


def new_invite_for_pep(year_group: int = 5) -> tuple[int, NewInvite]:
    """A fresh PEP with a new invite: its code and its link token."""
    with db.session_scope() as session:
        return (pep := child_pep(session, year_group=year_group)).id, new_invite(session, pep)


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


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def redeem(c: TestClient, secret: str, field: str = "code", page: str | None = None) -> Response:
    """What a child does: open a start page (by default their link), then press Start."""
    if page is None:
        page = f"/chat/link/{secret}" if field == "link" else f"/chat?code={quote(secret)}"
    form = c.get(page)
    assert form.status_code in (200, 400, 429), form.text
    return c.post("/chat/start", data={"csrf": csrf_from(form.text), field: secret})


def linked(code: str, c: TestClient | None = None) -> TestClient:
    c = c or client()
    response = redeem(c, code)
    assert response.status_code == 303, response.text
    return c


def started(code: str, fake: FakeEngine, c: TestClient | None = None) -> TestClient:
    c = linked(code, c)
    fake.replies.append([BotMessage("Hi! I'm PEP Voice."), BotMessage("What's been going well?")])
    assert c.post("/chat/api/start", headers=CSRF).status_code == 200
    return c
