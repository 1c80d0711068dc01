"""The review app over HTTP: login, cookies, throttling, logout, CSRF, headers, home page."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

from sqlalchemy import select

from bot import db
from bot.models import AuditEvent, StaffSession
from bot.review.accounts import LOGIN_REFUSED, LOGIN_THROTTLED
from bot.review.auth import SESSION_COOKIE
from tests.review.helpers import PASSWORD, World, client, csrf_from, logged_in, login


def _set_cookie(response_headers: list[str], name: str) -> str:
    headers = [h for h in response_headers if h.startswith(name + "=")]
    assert len(headers) == 1, response_headers
    return headers[0]


def test_pages_need_a_login(world: World) -> None:
    c = client()
    response = c.get("/review")
    assert response.status_code == 303
    assert response.headers["location"] == "/review/login?next=/review"
    # Only our own review pages are ever a target after login.
    for target in ("https://evil.example/", "//evil.example", "/chat", "/review\\x"):
        page = c.get("/review/login", params={"next": target})
        assert 'name="next" value="/review"' in page.text


def test_login_and_the_session_cookie(world: World) -> None:
    c = client()
    response = login(c, world.dt_a.email, PASSWORD, next_path="/review")
    assert response.status_code == 303 and response.headers["location"] == "/review"
    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    parts = {p.strip().lower() for p in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/review"} <= parts
    assert "secure" not in parts  # plain http (development)
    assert not any(p.startswith(("max-age", "expires")) for p in parts)  # a browser session
    home = c.get("/review")
    assert home.status_code == 200
    assert world.dt_a.email in home.text and "Designated teacher" in home.text


def test_the_cookie_is_secure_over_https(world: World) -> None:
    c = client(https=True)
    response = login(c, world.dt_a.email, PASSWORD)
    assert response.status_code == 303
    cookie = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert "secure" in {p.strip().lower() for p in cookie.split(";")}


def test_refusals_look_the_same(world: World) -> None:
    c = client()
    unknown = login(c, "nobody@nowhere.example.org", PASSWORD)
    wrong = login(c, world.dt_a.email, "not the right password")
    assert unknown.status_code == wrong.status_code == 400
    assert LOGIN_REFUSED in unknown.text and LOGIN_REFUSED in wrong.text
    assert SESSION_COOKIE not in str(unknown.headers) + str(wrong.headers)
    assert PASSWORD not in unknown.text and "not the right password" not in wrong.text


def test_the_eleventh_try_is_refused_even_with_the_right_password(world: World) -> None:
    c = client()
    for i in range(10):
        assert login(c, world.dt_a.email, f"wrong password {i}").status_code == 400
    eleventh = login(c, world.dt_a.email, PASSWORD)
    assert eleventh.status_code == 429 and LOGIN_THROTTLED in eleventh.text
    # Per address too: another account from this address is held up as well.
    assert login(c, world.dsl_a.email, PASSWORD).status_code == 429
    # From another address the other account logs in.
    assert login(client(address="10.1.1.1"), world.dsl_a.email, PASSWORD).status_code == 303


def test_login_needs_the_forms_token(world: World) -> None:
    c = client()
    c.get("/review/login")
    for token in ("", "forged", csrf_from(client().get("/review/login").text)):
        response = c.post(
            "/review/login", data={"csrf": token, "email": world.dt_a.email, "password": PASSWORD}
        )
        assert response.status_code == 403 and SESSION_COOKIE not in str(response.headers)


def test_logout(world: World) -> None:
    c = logged_in(world.dt_a)
    token = csrf_from(c.get("/review").text)
    response = c.post("/review/logout", data={"csrf": token})
    assert response.status_code == 200 and "You have logged out" in response.text
    cleared = _set_cookie(response.headers.get_list("set-cookie"), SESSION_COOKIE)
    assert SimpleCookie(cleared)[SESSION_COOKIE].value in ("", '""')
    with db.session_scope() as session:
        assert session.scalars(select(StaffSession)).all() == []
    assert c.get("/review").status_code == 303


def test_a_kept_cookie_is_useless_after_logout(world: World) -> None:
    c = logged_in(world.dt_a)
    stolen = c.cookies.get(SESSION_COOKIE, path="/review")
    token = csrf_from(c.get("/review").text)
    c.post("/review/logout", data={"csrf": token})
    replay = client()
    replay.cookies.set(SESSION_COOKIE, stolen, path="/review")
    assert replay.get("/review").status_code == 303


def test_posts_need_this_sessions_csrf_token(world: World) -> None:
    c = logged_in(world.dt_a)
    other = logged_in(world.dt_b)
    others_token = csrf_from(other.get("/review").text)
    assert c.post("/review/logout").status_code == 403
    assert c.post("/review/logout", data={"csrf": "1.2.3"}).status_code == 403
    assert c.post("/review/logout", data={"csrf": others_token}).status_code == 403
    assert c.get("/review").status_code == 200  # still logged in


def test_review_pages_get_the_chats_security_headers(world: World) -> None:
    c = logged_in(world.dt_a)
    for path in ("/review/login", "/review"):
        response = client().get(path) if path.endswith("login") else c.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "<script" not in response.text and "style=" not in response.text
        assert "<style" not in response.text


def test_home_lists_the_children_in_scope(world: World) -> None:
    dt_a = logged_in(world.dt_a).get("/review").text
    assert "Robin" in dt_a and "Year 5" in dt_a and "Kai" not in dt_a
    dt_b = logged_in(world.dt_b).get("/review").text
    assert "Kai" in dt_b and "Robin" not in dt_b
    vs = logged_in(world.vs).get("/review").text
    assert "Robin" in vs and "Kai" in vs and "read-only" in vs and "every school" in vs
    dsl = logged_in(world.dsl_a).get("/review").text
    assert "Robin" in dsl and "Kai" not in dsl and "safeguarding lead" in dsl


def test_login_logout_and_failures_are_audited_without_passwords(world: World) -> None:
    c = client()
    login(c, world.dt_a.email, "wrong password here")
    login(c, world.dt_a.email, PASSWORD)
    c.post("/review/logout", data={"csrf": csrf_from(c.get("/review").text)})
    with db.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("staff.%")).order_by(AuditEvent.id)
        ).all()
        actions = [e.action for e in events if e.action != "staff.created"]
        dumped = json.dumps([[e.actor, e.detail] for e in events])
    assert actions[-3:] == ["staff.login_failed", "staff.login", "staff.logout"]
    assert "wrong password here" not in dumped and PASSWORD not in dumped
