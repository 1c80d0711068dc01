"""A shared tablet: each code is its own conversation, and nothing a child said is left behind."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from bot import db
from bot.engine_client import BotMessage, Button
from bot.models import Pep
from bot.services.answers import submit_voice
from bot.services.invites import issue_invite
from bot.settings import get_settings
from bot.web import chat
from bot.web.sessions import COOKIE_NAME, store
from bot.web.transcript import is_disclosure_check, is_disclosure_response
from tests.web.helpers import CSRF, FakeEngine, client, linked, new_pep, redeem, started

DISCLOSURE = (
    "Thank you for telling me. It's not your fault, and you were right to say it. I'm a "
    "computer program, so I can't keep this secret: I'll tell your school's safeguarding lead, "
    "an adult whose job is to keep you safe, so they can help. You can also talk to Childline "
    "any time, free, on 0800 1111. If you are in danger right now, call 999."
)
CARRY_ON = BotMessage(
    "Would you like to carry on with the questions, or stop for now?",
    (Button("Carry on", "/affirm"), Button("Stop for now", "/stop")),
)
CHECK = BotMessage(
    "I want to be sure I understand. Are you telling me that someone is hurting you, or "
    "that you don't feel safe?",
    (Button("Yes", "/affirm"), Button("No", "/deny")),
)


def cookie_of(c: TestClient) -> str | None:
    return c.cookies.get(COOKIE_NAME)


def texts(c: TestClient) -> list[str]:
    response = c.get("/chat/api/history")
    assert response.status_code == 200
    return [m["text"] for m in response.json()["messages"]]


def test_the_domain_texts_are_recognised() -> None:
    assert is_disclosure_response(DISCLOSURE)
    assert is_disclosure_response("Thank you for telling me more. I'll pass this on too.")
    assert is_disclosure_check(CHECK.text)
    assert not is_disclosure_response("Thank you! What's been going well?")
    assert not is_disclosure_check("What's been going well?")


def test_each_code_starts_its_own_session_and_conversation(web: None, fake: FakeEngine) -> None:
    """A, then B, then A again in one browser: three sessions, two conversations."""
    _a_pep, code_a = new_pep()
    _b_pep, code_b = new_pep()
    tablet = started(code_a, fake)
    first_cookie = cookie_of(tablet)
    tablet.post("/chat/api/send", json={"text": "A's secret answer"}, headers=CSRF)
    sender_a = fake.sent[0][0]
    assert sender_a.startswith("web-") and code_a.replace("-", "") not in sender_a.upper()

    started(code_b, fake, tablet)
    assert cookie_of(tablet) != first_cookie
    sender_b = fake.sent[-1][0]
    assert sender_b != sender_a
    assert fake.sent[-1][1].startswith("/start")
    assert "A's secret answer" not in texts(tablet)
    tablet.post("/chat/api/send", json={"text": "B's answer"}, headers=CSRF)
    assert fake.sent[-1][0] == sender_b

    # The old cookie's session is over: replaying it shows nothing of A's.
    replay = client()
    replay.cookies.set(COOKIE_NAME, str(first_cookie), path="/chat")
    assert replay.get("/chat/api/history").status_code == 401

    # A comes back: her own conversation again, in a fresh session that shows nothing of B's.
    linked(code_a, tablet)
    assert texts(tablet) == []
    fake.replies.append([BotMessage("Welcome back!")])
    tablet.post("/chat/api/start", headers=CSRF)
    assert fake.sent[-1][0] == sender_a
    tablet.post("/chat/api/send", json={"text": "A again"}, headers=CSRF)
    assert fake.sent[-1] == (sender_a, "A again")
    assert "B's answer" not in texts(tablet)


def test_a_bad_code_ends_the_previous_session(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    tablet = started(code, fake)
    assert redeem(tablet, "ZZZZ-9999").status_code == 400
    assert tablet.get("/chat/api/history").status_code == 401


def test_the_cookie_is_a_browser_session_cookie(web: None) -> None:
    _pep_id, code = new_pep()
    cookie = redeem(client(), code).headers["set-cookie"].lower()
    assert "max-age" not in cookie
    assert "expires" not in cookie


def test_an_idle_session_is_forgotten(
    web: None, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_IDLE_MINUTES", "30")
    get_settings.cache_clear()
    now = [1000.0]
    monkeypatch.setattr(store, "clock", lambda: now[0])
    _pep_id, code = new_pep()
    c = started(code, fake)
    now[0] += 29 * 60
    assert c.get("/chat/api/history").status_code == 200  # in use: the clock restarts
    now[0] += 29 * 60
    assert c.get("/chat/api/history").status_code == 200
    now[0] += 31 * 60
    assert c.get("/chat/api/history").status_code == 401
    page = c.get("/chat").text
    assert 'action="/chat/start"' in page and 'id="composer"' not in page
    # The code starts it again, on the same conversation.
    started(code, fake, c)
    assert fake.sent[-1][0] == fake.sent[0][0]


def test_finish_ends_the_session_and_clears_the_cookie(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    page = c.get("/chat").text
    assert '<button type="button" class="finish" id="finish"' in page
    assert 'aria-describedby="finish-hint"' in page
    assert c.post("/chat/api/finish").status_code == 403  # the CSRF header is needed
    assert c.get("/chat/api/history").status_code == 200

    response = c.post("/chat/api/finish", headers=CSRF)
    assert response.status_code == 200
    assert response.json()["location"] == "/chat/finished"
    cleared = response.headers["set-cookie"]
    assert f'{COOKIE_NAME}=""' in cleared and "Max-Age=0" in cleared
    assert cookie_of(c) is None

    again = client()
    again.cookies.set(COOKIE_NAME, str(cookie_of(started(code, fake))), path="/chat")
    again.post("/chat/api/finish", headers=CSRF)
    assert again.get("/chat/api/history").status_code == 401
    finished = html.unescape(client().get("/chat/finished").text)
    assert "You've finished" in finished
    assert "You can close this page" in finished


def test_after_submitting_the_transcript_is_gone(web: None, fake: FakeEngine) -> None:
    pep_id, code = new_pep()
    c = started(code, fake)
    c.post("/chat/api/send", json={"text": "My answer"}, headers=CSRF)
    assert "My answer" in texts(c)
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        submit_voice(session, pep)
    history = c.get("/chat/api/history").json()
    assert history["messages"] == []
    assert history["submitted"] is True
    page = c.get("/chat")
    assert "already been sent" in html.unescape(page.text)
    assert 'id="composer"' not in page.text
    assert c.get("/chat/api/history").status_code == 401  # the finished page ended it


def test_the_reply_that_sends_it_is_shown_once_then_forgotten(
    web: None, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pep_id, code = new_pep()
    c = started(code, fake)

    class Submitting(FakeEngine):
        pass

    async def submit_and_reply(sender_id: str, text: str, **_: object) -> list[BotMessage]:
        with db.session_scope() as session:
            pep = session.get(Pep, pep_id)
            assert pep is not None
            submit_voice(session, pep)
        return [BotMessage("Your answers have been sent to your designated teacher.")]

    monkeypatch.setattr(chat, "send_to_engine", submit_and_reply)
    live = c.post("/chat/api/send", json={"text": "Yes, send it"}, headers=CSRF).json()
    assert [m["text"] for m in live["messages"]][-1].startswith("Your answers have been sent")
    assert live["submitted"] is True
    assert texts(c) == []


def test_a_disclosure_is_shown_once_and_never_kept(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    c.post("/chat/api/send", json={"text": "Art club"}, headers=CSRF)
    fake.replies.append([BotMessage(DISCLOSURE), CARRY_ON])
    live = c.post("/chat/api/send", json={"text": "my uncle hits me"}, headers=CSRF).json()
    assert [m["text"] for m in live["messages"]] == ["my uncle hits me", DISCLOSURE, CARRY_ON.text]

    kept = texts(c)
    assert "my uncle hits me" not in kept
    assert DISCLOSURE not in kept
    assert "Art club" in kept
    assert kept[-1] == CARRY_ON.text  # the choice that follows stays, with its buttons
    history = c.get("/chat/api/history").json()["messages"]
    assert [b["payload"] for b in history[-1]["buttons"]] == ["/affirm", "/stop"]
    assert all(not m["buttons"] for m in history[:-1])
    ok = c.post("/chat/api/send", json={"payload": "/affirm"}, headers=CSRF)
    assert ok.status_code == 200


def test_a_message_the_bot_checks_is_not_kept(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    fake.replies.append([CHECK])
    c.post("/chat/api/send", json={"text": "nobody feeds me at home"}, headers=CSRF)
    kept = texts(c)
    assert "nobody feeds me at home" not in kept
    assert kept[-1] == CHECK.text
    # Yes: the disclosure turn is dropped too; the Yes button still worked.
    fake.replies.append(
        [BotMessage("Thank you for telling me more. I'll pass this on too."), CARRY_ON]
    )
    response = c.post("/chat/api/send", json={"payload": "/affirm"}, headers=CSRF)
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"] == "Yes"
    kept = texts(c)
    assert "Yes" not in kept
    assert not any(t.startswith("Thank you for telling me") for t in kept)
    assert kept[-2:] == [CHECK.text, CARRY_ON.text]


def _revoke(pep_id: int) -> str:
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        return issue_invite(session, pep)


def test_a_new_invite_closes_the_old_one_s_open_chat(web: None, fake: FakeEngine) -> None:
    """A lost tablet: the teacher makes a new code, and the chat left open there closes."""
    pep_id, code = new_pep()
    lost = started(code, fake)
    new_code = _revoke(pep_id)
    sent = len(fake.sent)
    refused = lost.post("/chat/api/send", json={"text": "hello"}, headers=CSRF)
    assert refused.status_code == 401
    assert refused.json()["detail"]["message"] == chat.REVOKED_SESSION_MESSAGE
    assert len(fake.sent) == sent  # nothing reached the engine
    assert 'id="composer"' not in lost.get("/chat").text
    assert redeem(lost, code).status_code == 400
    # The child carries on with the new code, in a new conversation.
    started(new_code, fake, client())
    assert fake.sent[-1][0] != fake.sent[0][0]


def test_reloading_a_revoked_chat_says_why_it_closed(web: None, fake: FakeEngine) -> None:
    pep_id, code = new_pep()
    lost = started(code, fake)
    _revoke(pep_id)
    page = html.unescape(lost.get("/chat").text)
    assert chat.REVOKED_SESSION_MESSAGE in page and 'id="composer"' not in page
    assert lost.get("/chat/api/history").status_code == 401
