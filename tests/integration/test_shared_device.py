"""A shared tablet, end to end through the web chat's JSON API and the real engine.

Child A opens her link, child B opens his, then A opens hers again and answers, and tells
the bot something a safeguarding lead must know. Her answers and the concern are A's; B's
PEP holds only B's words; nothing of A's is shown in B's chat, and the disclosure is not in
A's history.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import db
from bot.child_texts import CODE_IN_CHAT_MESSAGE
from bot.models import SafeguardingConcern
from tests.integration.stack import Stack

pytestmark = pytest.mark.engine

CSRF = {"X-PEP-Voice": "1"}
DISCLOSURE = "I'm being forced to have sex and I'm only 12 years old"
MAX_TAPS = 6


def post(client: httpx.Client, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(path, json=body or {}, headers=CSRF, timeout=90)
    assert response.status_code == 200, response.text
    return dict(response.json())


def open_link(client: httpx.Client, code: str) -> list[dict[str, Any]]:
    """The child opens /chat?code=... and presses Start: a new session, then the chat starts."""
    page = client.get("/chat", params={"code": code})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    response = client.post("/chat/start", data={"csrf": csrf.group(1), "code": code})
    assert response.status_code == 303, response.text
    assert client.get("/chat/api/history").json()["messages"] == []
    return list(post(client, "/chat/api/start")["messages"])


def to_a_typed_question(client: httpx.Client, messages: list[dict[str, Any]]) -> None:
    """Tap the first button while the bot offers any, until it asks for typed words."""
    for _ in range(MAX_TAPS):
        buttons = messages[-1]["buttons"] if messages else []
        if not buttons:
            return
        messages = post(client, "/chat/api/send", {"payload": buttons[0]["payload"]})["messages"]
    pytest.fail("the bot kept offering buttons")


def answer(
    client: httpx.Client, messages: list[dict[str, Any]], words: str
) -> list[dict[str, Any]]:
    to_a_typed_question(client, messages)
    reply = post(client, "/chat/api/send", {"text": words})["messages"]
    assert reply[0]["text"] == words
    return list(reply)


def saved_texts(stack: Stack, pep_id: int) -> set[str]:
    return {a.text for a in stack.answers(pep_id).values() if a.text}


def history_texts(client: httpx.Client) -> list[str]:
    return [m["text"] for m in client.get("/chat/api/history").json()["messages"]]


def test_a_then_b_then_a_on_one_tablet(stack: Stack, app_url: str) -> None:
    pep_a, code_a = stack.new_pep(year_group=7)
    pep_b, code_b = stack.new_pep(year_group=7)
    tag = uuid.uuid4().hex[:6]
    a_first, b_words, a_again = f"A first {tag}", f"B words {tag}", f"A again {tag}"

    with httpx.Client(base_url=app_url, follow_redirects=False, timeout=90) as tablet:
        answer(tablet, open_link(tablet, code_a), a_first)
        cookie_a = tablet.cookies.get("pepvoice_chat")

        answer(tablet, open_link(tablet, code_b), b_words)
        assert tablet.cookies.get("pepvoice_chat") != cookie_a
        assert a_first not in history_texts(tablet)

        welcome = open_link(tablet, code_a)
        assert any(m["text"].startswith("Welcome back") for m in welcome), welcome
        assert b_words not in history_texts(tablet)
        after = answer(tablet, welcome, a_again)

        # A's disclosure: answered once, live, and never shown again.
        to_a_typed_question(tablet, after)
        live = post(tablet, "/chat/api/send", {"text": DISCLOSURE})["messages"]
        assert any("Thank you for telling me" in m["text"] for m in live)
        kept = history_texts(tablet)
        assert DISCLOSURE not in kept
        assert not any("Thank you for telling me" in t for t in kept)

        # Finish: the next person on the tablet finds the code page.
        assert post(tablet, "/chat/api/finish")["finished"] is True
        assert tablet.get("/chat/api/history").status_code == 401

    assert {a_first, a_again} <= saved_texts(stack, pep_a)
    assert b_words not in saved_texts(stack, pep_a)
    assert saved_texts(stack, pep_b) & {a_first, a_again, DISCLOSURE} == set()
    assert b_words in saved_texts(stack, pep_b)
    stack.use_store()
    with db.session_scope() as session:
        concerns = session.scalars(
            select(SafeguardingConcern).where(SafeguardingConcern.pep_id.in_([pep_a, pep_b]))
        ).all()
        assert [c.pep_id for c in concerns] == [pep_a]


def test_a_code_typed_into_the_web_chat_is_kept_out_of_the_engine(
    stack: Stack, app_url: str
) -> None:
    """Children often type their code again once in: it must not land in the tracker store
    or in their answers (a backup would otherwise hold a live key to their chat)."""
    pep_id, code = stack.new_pep()
    with httpx.Client(base_url=app_url, follow_redirects=False, timeout=90) as browser:
        messages = open_link(browser, code)
        to_a_typed_question(browser, messages)
        typed = f"my code is {code.lower().replace('-', ' ')}"
        reply = post(browser, "/chat/api/send", {"text": typed})["messages"]
        assert [m["text"] for m in reply] == [CODE_IN_CHAT_MESSAGE]
        post(browser, "/chat/api/send", {"text": "art and football"})
    with sqlite3.connect(stack.work / "tracker.db") as tracker:
        data = [row[0] for row in tracker.execute("SELECT data FROM events")]
    assert any("art and football" in d for d in data)
    for variant in (code, code.replace("-", ""), code.lower().replace("-", " ")):
        assert not any(variant in d for d in data)
    assert saved_texts(stack, pep_id) >= {"art and football"}
    assert not any(
        code.replace("-", "") in t.upper().replace(" ", "") for t in saved_texts(stack, pep_id)
    )
