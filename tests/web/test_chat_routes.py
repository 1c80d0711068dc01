"""The web chat's routes, with FastAPI's TestClient: no engine needed (it is faked or down)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from bot import db
from bot.child_texts import NOT_SAVED_MESSAGE, REFUSED_MESSAGE, THROTTLED_MESSAGE
from bot.engine_client import SLASH_GUARD, START_MESSAGE, BotMessage, Button, EngineUnavailable
from bot.models import AnsweredBy, Invite, Pep
from bot.security import secrets_in
from bot.services.answers import record_answer, submit_voice
from bot.services.conversation import link_conversation
from bot.services.invites import issue_invite
from bot.services.throttle import invite_throttle
from bot.settings import get_settings
from bot.web import chat
from bot.web.logs import redact
from bot.web.sessions import COOKIE_NAME
from tests.web.helpers import (
    CSRF,
    FakeEngine,
    client,
    csrf_from,
    linked,
    new_invite_for_pep,
    new_pep,
    redeem,
    started,
)

# --- pages ---------------------------------------------------------------------------------


def test_start_page_renders_without_engine_or_session(web: None) -> None:
    response = client().get("/chat")
    assert response.status_code == 200
    assert '<html lang="en-GB">' in response.text
    assert 'action="/chat/start"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_redeeming_sets_a_private_cookie_and_goes_to_the_chat(web: None) -> None:
    _pep_id, code = new_pep()
    response = redeem(client(), code)
    assert response.status_code == 303
    assert response.headers["location"] == "/chat"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE_NAME}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/chat" in cookie
    assert "Secure" not in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert code.replace("-", "") not in value.replace("-", "").upper()


@pytest.mark.parametrize("kind", ["link", "path", "query"])
def test_opening_a_link_uses_nothing_up(web: None, kind: str) -> None:
    """Link scanners fetch URLs: a GET only shows a Start button; pressing it redeems."""
    pep_id, invite = new_invite_for_pep()
    url, field, value = {
        "link": (f"/chat/link/{invite.link_token}", "link", invite.link_token),
        "path": (f"/chat/{invite.code}", "code", invite.code),
        "query": (f"/chat?code={invite.code}", "code", invite.code),
    }[kind]
    scanner = client()
    for _ in range(3):
        page = scanner.get(url)
        assert page.status_code == 200
        assert COOKIE_NAME not in page.headers.get("set-cookie", "")
        assert f'name="{field}" value="{value}"' in page.text
    with db.session_scope() as session:
        assert all(
            i.bound_to is None for i in session.scalars(select(Invite)) if i.pep_id == pep_id
        )
    # The child's own browser presses Start afterwards and is let in.
    assert redeem(client(), value, field, page=url).status_code == 303


def test_a_forged_start_post_is_refused(web: None) -> None:
    _pep_id, code = new_pep()
    c = client()
    no_token = c.post("/chat/start", data={"code": code})
    assert no_token.status_code == 403
    assert COOKIE_NAME not in no_token.headers.get("set-cookie", "")
    # A token from another browser's page does not match this browser's cookie.
    other_token = csrf_from(client().get("/chat").text)
    c.get("/chat")
    assert c.post("/chat/start", data={"csrf": other_token, "code": code}).status_code == 403
    # A cross-site form carries no cookie at all (SameSite=Strict): refused too.
    bare = client()
    assert bare.post("/chat/start", data={"csrf": other_token, "code": code}).status_code == 403
    assert redeem(c, code).status_code == 303


def test_start_cookie_is_strict_and_private(web: None) -> None:
    cookie = client().get("/chat").headers["set-cookie"]
    assert f"{chat.START_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/chat" in cookie


def test_cookie_is_secure_over_https(web: None) -> None:
    _pep_id, code = new_pep()
    response = redeem(client(https=True), code)
    assert "Secure" in response.headers["set-cookie"]


def test_forwarded_proto_counts_only_behind_a_proxy(
    web: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pep_id, code = new_pep()
    c = client()
    form = c.get("/chat")
    spoofed = c.post(
        "/chat/start",
        data={"csrf": csrf_from(form.text), "code": code},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" not in spoofed.headers["set-cookie"]

    monkeypatch.setenv("BEHIND_PROXY", "true")
    get_settings.cache_clear()
    _pep_id, code = new_pep()
    c = client()
    form = c.get("/chat")
    proxied = c.post(
        "/chat/start",
        data={"csrf": csrf_from(form.text), "code": code},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in proxied.headers["set-cookie"]


@pytest.mark.parametrize("kind", ["unknown", "expired", "submitted", "revoked", "used"])
def test_every_bad_code_gets_the_same_kind_page_and_no_session(web: None, kind: str) -> None:
    if kind == "unknown":
        code = "ZZZZ-9999"
    elif kind == "revoked":
        pep_id, code = new_pep()
        with db.session_scope() as session:
            pep = session.get(Pep, pep_id)
            assert pep is not None
            issue_invite(session, pep)
    elif kind == "used":
        _pep_id, code = new_pep()
        link_conversation(code, "tg-another-chat", client="test")
    else:
        _pep_id, code = new_pep(expired=kind == "expired", submitted=kind == "submitted")
    response = redeem(client(), code)
    assert response.status_code == 400
    assert REFUSED_MESSAGE in html.unescape(response.text)
    assert chat.REFUSED_TITLE in html.unescape(response.text)
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")


def test_guessing_codes_is_throttled_per_address(
    web: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = get_settings().invites.attempts_per_client
    _pep_id, good = new_pep()
    c = client()
    for n in range(limit):
        assert redeem(c, f"ZZZZ-{n:04d}".replace("0", "2").replace("1", "3")).status_code == 400
    # Over the limit even a good code is refused, before it is looked up.
    throttled = redeem(c, good)
    assert throttled.status_code == 429
    assert THROTTLED_MESSAGE in html.unescape(throttled.text)
    with db.session_scope() as session:
        assert session.scalars(select(Invite).where(Invite.bound_to.is_not(None))).all() == []
    # Another address is not held up by this one.
    monkeypatch.setenv("BEHIND_PROXY", "true")
    get_settings.cache_clear()
    other = client()
    form = other.get("/chat")
    response = other.post(
        "/chat/start",
        data={"csrf": csrf_from(form.text), "code": good},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 303


def test_guessing_from_many_addresses_meets_the_global_limit(
    web: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVITE_ATTEMPTS_GLOBAL", "30")
    monkeypatch.setenv("BEHIND_PROXY", "true")
    get_settings.cache_clear()
    invite_throttle.cache_clear()
    _pep_id, good = new_pep()
    statuses = []
    for n in range(31):
        c = client()
        form = c.get("/chat")
        statuses.append(
            c.post(
                "/chat/start",
                data={"csrf": csrf_from(form.text), "code": "ZZZZ-9999"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
        )
    assert statuses[:30] == [400] * 30 and statuses[30] == 429
    assert redeem(client(), good).status_code == 429


def test_tampered_cookie_is_ignored(web: None) -> None:
    c = client()
    c.cookies.set(COOKIE_NAME, "abc.def", path="/chat")
    assert 'action="/chat/start"' in c.get("/chat").text
    assert c.get("/chat/api/history").status_code == 401


def test_finished_pep_shows_a_thank_you_instead_of_the_chat(web: None) -> None:
    pep_id, code = new_pep()
    c = linked(code)
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        submit_voice(session, pep)
    response = c.get("/chat")
    assert "already been sent" in html.unescape(response.text)
    assert 'id="composer"' not in response.text


# --- the API -------------------------------------------------------------------------------


def test_engine_down_the_chat_page_still_renders_and_start_can_be_retried(web: None) -> None:
    _pep_id, code = new_pep()
    c = linked(code)
    assert 'id="composer"' in c.get("/chat").text
    response = c.post("/chat/api/start", headers=CSRF)
    assert response.status_code == 503
    assert response.json()["detail"]["message"] == chat.START_FAILED_MESSAGE
    assert c.get("/chat/api/history").json()["started"] is False


def test_start_sends_no_code_then_the_history_survives_a_refresh(
    web: None, fake: FakeEngine
) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    sender, first = fake.sent[0]
    # The app linked the conversation: the engine is told only to start.
    assert first == START_MESSAGE
    assert sender.startswith("web-") and code not in sender
    # Starting twice (a second tab, a refresh mid-start) sends nothing more.
    assert c.post("/chat/api/start", headers=CSRF).json()["messages"] == []
    assert len(fake.sent) == 1

    again = client()
    again.cookies.update(c.cookies)
    history = again.get("/chat/api/history").json()
    assert history["started"] is True
    assert [m["text"] for m in history["messages"]] == [
        "Hi! I'm PEP Voice.",
        "What's been going well?",
    ]


def test_a_failed_send_loses_nothing_and_says_not_saved(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    fake.replies.append(EngineUnavailable("ConnectError"))
    response = c.post("/chat/api/send", json={"text": "Art club"}, headers=CSRF)
    assert response.status_code == 503
    assert response.json()["detail"] == {"error": "not_sent", "message": NOT_SAVED_MESSAGE}
    history = c.get("/chat/api/history").json()["messages"]
    assert "Art club" not in [m["text"] for m in history]

    response = c.post("/chat/api/send", json={"text": "Art club"}, headers=CSRF)
    assert response.status_code == 200
    assert [m["sender"] for m in response.json()["messages"]] == ["child", "bot"]
    assert response.json()["messages"][0]["text"] == "Art club"


def test_posts_need_the_custom_header(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    sent_before = len(fake.sent)
    assert c.post("/chat/api/send", json={"text": "hi"}).status_code == 403
    assert (
        c.post("/chat/api/send", json={"text": "hi"}, headers={"X-PEP-Voice": "0"}).status_code
        == 403
    )
    assert c.post("/chat/api/start").status_code == 403
    assert len(fake.sent) == sent_before


def test_typed_slash_text_reaches_the_engine_as_text(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    for typed in ["/stop", '/start{"invite_code": "ABCD-2345"}', "  /help"]:
        response = c.post("/chat/api/send", json={"text": typed}, headers=CSRF)
        assert response.json()["messages"][0]["text"] == typed  # shown as typed
        sent = fake.sent[-1][1]
        assert not sent.strip().startswith("/")
        assert sent == SLASH_GUARD + typed
    c.post("/chat/api/send", json={"text": "a/b"}, headers=CSRF)
    assert fake.sent[-1][1] == "a/b"


def test_buttons_send_their_payload_and_show_their_title(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = linked(code)
    fake.replies.append(
        [BotMessage("Who's answering?", (Button("Me 🙂", "/inform_me"), Button("Carer", "/c")))]
    )
    c.post("/chat/api/start", headers=CSRF)
    forged = c.post("/chat/api/send", json={"payload": "/stop", "title": "x"}, headers=CSRF)
    assert forged.status_code == 409
    response = c.post(
        "/chat/api/send", json={"payload": "/inform_me", "title": "ignored"}, headers=CSRF
    )
    assert response.status_code == 200
    assert fake.sent[-1][1] == "/inform_me"
    assert response.json()["messages"][0] == {
        "id": 2,
        "sender": "child",
        "text": "Me 🙂",
        "buttons": [],
    }
    # The buttons were for that turn only.
    again = c.post("/chat/api/send", json={"payload": "/c", "title": "Carer"}, headers=CSRF)
    assert again.status_code == 409


def test_empty_and_oversized_text_are_refused(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    assert c.post("/chat/api/send", json={"text": "  "}, headers=CSRF).status_code == 400
    too_long = "x" * (chat.MAX_TEXT_CHARS + 1)
    assert c.post("/chat/api/send", json={"text": too_long}, headers=CSRF).status_code == 413
    assert c.post("/chat/api/send", content=b"[1]", headers=CSRF).status_code == 400


def test_progress_and_who_is_answering_come_from_the_store(web: None, fake: FakeEngine) -> None:
    pep_id, code = new_pep(year_group=5)
    c = started(code, fake)
    state = c.get("/chat/api/history").json()
    assert state["progress"]["label"] == "Part 1 of 5: Getting started"
    assert state["answering"] is None

    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        # "Who's answering" is recorded on each answer, not as an answer of its own.
        record_answer(session, pep, "feeling_now", "😀", AnsweredBy.with_carer, "ks1_2")
    state = c.post("/chat/api/send", json={"text": "Art"}, headers=CSRF).json()
    assert state["progress"]["label"] == "Part 2 of 5: Looking back"
    assert state["answering"] == "You and your carer"
    assert "Part 2 of 5: Looking back" in c.get("/chat").text


def test_access_log_paths_lose_invite_codes() -> None:
    assert "K7QM" not in redact("GET /chat?code=K7QM-4TXP HTTP/1.1")
    assert "K7QM" not in redact("/chat/K7QM-4TXP")
    assert redact("/chat/api/history") == "/chat/api/history"
    assert redact("/chat/start") == "/chat/start"
    assert redact("/chat/finished") == "/chat/finished"
    # Query strings on fixed paths, other cases and link tokens go too.
    for line in (
        "GET /chat/start?code=K7QM-4TXP HTTP/1.1",
        "GET /chat/api/history?code=K7QM4TXP HTTP/1.1",
        "GET /CHAT/K7QM-4TXP HTTP/1.1",
        "GET /chat/link/K7QMabcdefghijklmnopqrstuvwxyz0123456789_-A HTTP/1.1",
    ):
        assert "K7QM" not in redact(line), line
    assert redact("GET /chat/start?code=x HTTP/1.1") == "GET /chat/start?[redacted] HTTP/1.1"


def test_a_code_typed_in_the_chat_never_reaches_the_engine(web: None, fake: FakeEngine) -> None:
    _pep_id, invite = new_invite_for_pep()
    c = started(invite.code, fake)
    sent = len(fake.sent)
    for typed in (
        f"my code is {invite.code.lower().replace('-', ' ')}",
        invite.code,
        f"here {invite.link_token}",
    ):
        reply = c.post("/chat/api/send", json={"text": typed}, headers=CSRF).json()
        assert [m["text"] for m in reply["messages"]] == [chat.CODE_IN_CHAT_MESSAGE]
        assert len(fake.sent) == sent
        assert all(
            invite.code not in m["text"] for m in c.get("/chat/api/history").json()["messages"]
        )
    # Another child's code is kept out too (it is somebody's key, whatever chat it is typed in).
    _other_pep, other_code = new_pep()
    reply = c.post("/chat/api/send", json={"text": other_code}, headers=CSRF).json()
    assert [m["text"] for m in reply["messages"]] == [chat.CODE_IN_CHAT_MESSAGE]
    # Words that only look like a code are the child's answer.
    c.post("/chat/api/send", json={"text": "maths4me is my fave"}, headers=CSRF)
    assert fake.sent[-1][1] == "maths4me is my fave"


def test_looking_up_typed_codes_is_throttled_like_redeeming(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    limit = get_settings().invites.attempts_per_client
    digits = "23456789"
    for n in range(limit):
        word = f"maths{digits[n % 8]}{digits[n // 8 % 8]}x"  # code-shaped, no invite
        assert secrets_in(word)
        c.post("/chat/api/send", json={"text": word}, headers=CSRF)
    # Every code-shaped word that was no invite counted: this address may not try codes now.
    assert redeem(client(), code).status_code == 429


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:8001"},
        {"Origin": "null", "Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_start_post_from_another_page_is_refused_even_with_a_token(
    web: None, headers: dict[str, str]
) -> None:
    """A page on another port of the same host can plant our CSRF cookie; the browser still
    says where the post came from."""
    _pep_id, code = new_pep()
    c = client()
    form = c.get("/chat")
    response = c.post(
        "/chat/start", data={"csrf": csrf_from(form.text), "code": code}, headers=headers
    )
    assert response.status_code == 403
    # What Chromium sends from our own page (no-referrer makes its Origin "null").
    same = c.post(
        "/chat/start",
        data={"csrf": csrf_from(form.text), "code": code},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 303
