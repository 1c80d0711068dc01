"""The dashboard (upcoming PEPs on the home page), the invite card and the carer guide."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import db
from bot.models import AnsweredBy, AuditEvent, Invite, Pep
from bot.services.answers import record_answer, submit_voice
from bot.services.dashboard import QR_ERROR, QR_SVG_OPTIONS, uk_today
from bot.services.directory import add_child, add_pep
from bot.services.invites import InviteError, InviteFailure, redeem_invite
from bot.settings import get_settings
from tests.review.helpers import World, csrf_from, logged_in

CODE_RE = re.compile(r'class="invite-code">([A-Z0-9]{4}-[A-Z0-9]{4})<')
LINK_RE = re.compile(r'href="(http://127\.0\.0\.1:8000/chat/link/[A-Za-z0-9_-]+)"')
NASTY = "<script>alert(1)</script><b>x</b>"


def _invite(c: TestClient, pep_id: int) -> tuple[int, str]:
    """Press a PEP's "New code" button on the dashboard: (status, page)."""
    token = csrf_from(c.get("/review").text)
    response = c.post(f"/review/peps/{pep_id}/invite", data={"csrf": token})
    return response.status_code, response.text


def _code(page: str) -> str:
    match = CODE_RE.search(page)
    assert match, page
    return match.group(1)


def _rows(page: str) -> list[str]:
    body = page.split('<table class="peps">', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[2:]  # after the header row


@pytest.fixture
def soon(world: World) -> dict[str, int]:
    """Four more PEPs at school A: one in 3 days (not started: reminder due), one in 5 days
    with answers (in progress), one in 20 days not started (no reminder yet), one submitted
    and reviewed in 2 days, and one whose meeting has passed."""
    today = uk_today()
    with db.session_scope() as session:
        school = "Oak Primary"
        ids = {}
        for name, days in (("Ada", 3), ("Ben", 5), ("Cal", 20), ("Dee", 2), ("Eve", -1)):
            child = add_child(session, school, name, 4)
            ids[name] = add_pep(session, child.id, today + timedelta(days=days)).id
        session.flush()
        ben = session.get(Pep, ids["Ben"])
        dee = session.get(Pep, ids["Dee"])
        assert ben is not None and dee is not None
        record_answer(session, ben, "feeling_now", "ok", AnsweredBy.child, "ks1_2")
        record_answer(session, ben, "going_well", "maths", AnsweredBy.with_carer, "ks1_2")
        record_answer(session, dee, "feeling_now", "fine", AnsweredBy.carer, "ks1_2")
        submit_voice(session, dee)
        dee.reviewed_at = datetime.now(UTC)
    return ids


def test_the_dashboard_lists_upcoming_peps_soonest_first(
    world: World, soon: dict[str, int]
) -> None:
    page = logged_in(world.dt_a).get("/review").text
    rows = _rows(page)
    names = [re.search(r'class="name">([^<]+)<', r).group(1) for r in rows]  # type: ignore[union-attr]
    assert names == ["Dee", "Ada", "Ben", "Cal", "Robin"]  # Eve's meeting has passed
    dee, ada, ben, cal, robin = rows
    assert "status-reviewed" in dee and "Reviewed" in dee and "A carer, for Dee" in dee
    assert "Sent, no code needed" in dee and "/invite" not in dee
    assert "Not started" in ada and "Reminder due" in ada and "No answers yet" in ada
    assert "in 3 days" in ada
    assert "In progress" in ben and "Ben, with a carer&#39;s help" in ben  # the latest answer
    assert "Reminder due" not in ben
    assert "Not started" in cal and "Reminder due" not in cal
    assert "Not started" in robin and "Kai" not in page  # another school's
    assert f'action="/review/peps/{soon["Ada"]}/invite"' in ada
    with db.session_scope() as session:
        listed = session.scalars(select(AuditEvent).where(AuditEvent.action == "pep.listed")).all()
        assert listed[-1].detail["peps"] == 5 and listed[-1].actor == world.dt_a.ctx.actor


def test_the_virtual_school_sees_every_school_but_no_invite_buttons(world: World) -> None:
    page = logged_in(world.vs).get("/review").text
    assert "Robin" in page and "Kai" in page and "Ash Academy" in page
    assert "/invite" not in page and "New code" not in page


def test_a_new_invite_is_shown_once_and_revokes_the_old_one(world: World) -> None:
    c = logged_in(world.dt_a)
    status, first = _invite(c, world.pep_a)
    assert status == 200
    code = _code(first)
    assert first.count(code) == 1
    assert "Robin" in first and "This code replaces any earlier code for Robin" in first
    assert "Helping a child give their views" in first  # the guide, printed second
    assert "Year 5" not in first and "Oak Primary" not in first  # the first name only
    link = LINK_RE.search(first)
    assert link
    # The dashboard afterwards never shows it again.
    assert code not in c.get("/review").text
    status, second = _invite(c, world.pep_a)
    assert status == 200 and _code(second) != code
    with db.session_scope() as session:
        with pytest.raises(InviteError) as refused:
            redeem_invite(session, code, "conversation-1")
        assert refused.value.reason == InviteFailure.revoked
        assert redeem_invite(session, _code(second), "conversation-2").id == world.pep_a
        token = link.group(1).rsplit("/", 1)[1]
        with pytest.raises(InviteError):
            redeem_invite(session, token, "conversation-3")  # the first card's link too
        invites = session.scalars(select(Invite).where(Invite.pep_id == world.pep_a)).all()
        assert sum(i.revoked_at is None for i in invites) == 1
        issued = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invite.issued")
        ).all()
        assert issued[-1].actor == world.dt_a.ctx.actor
        assert code not in str([e.detail for e in issued])


def test_the_card_page_is_not_cached_and_has_no_inline_script(world: World) -> None:
    c = logged_in(world.dsl_a)
    token = csrf_from(c.get("/review").text)
    response = c.post(f"/review/peps/{world.pep_a}/invite", data={"csrf": token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert re.findall(r"<script[^>]*>", response.text) == [
        '<script src="/static/review-print.js" defer>'
    ]
    assert "style=" not in response.text and "<style" not in response.text
    assert "data:" not in response.text


def test_the_qr_code_is_the_web_link(world: World) -> None:
    _, page = _invite(logged_in(world.dt_a), world.pep_a)
    link = LINK_RE.search(page)
    assert link
    expected = segno.make(link.group(1), error=QR_ERROR).svg_inline(**QR_SVG_OPTIONS)
    assert expected in page
    assert '<svg viewBox="' in page and 'class="qr-code"' in page


def test_the_telegram_link_only_when_telegram_is_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = logged_in(world.dt_a)
    _, page = _invite(c, world.pep_a)
    assert "t.me" not in page and "Telegram" not in page
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "PepVoiceTestBot")
    get_settings.cache_clear()
    _, page = _invite(c, world.pep_a)
    token = LINK_RE.search(page).group(1).rsplit("/", 1)[1]  # type: ignore[union-attr]
    assert f'href="https://t.me/PepVoiceTestBot?start={token}"' in page


def test_scope_roles_and_csrf(world: World) -> None:
    dt_a = logged_in(world.dt_a)
    assert _invite(dt_a, world.pep_b)[0] == 404  # another school's
    assert _invite(dt_a, 999999)[0] == 404
    assert _invite(logged_in(world.dt_b), world.pep_b)[0] == 200
    assert _invite(logged_in(world.admin), world.pep_a)[0] == 200
    status, page = _invite(logged_in(world.vs), world.pep_a)
    assert status == 403 and "invite-code" not in page
    refused = dt_a.post(f"/review/peps/{world.pep_a}/invite")  # no token
    assert refused.status_code == 403 and "invite-code" not in refused.text
    other = csrf_from(logged_in(world.dsl_a).get("/review").text)
    refused = dt_a.post(f"/review/peps/{world.pep_a}/invite", data={"csrf": other})
    assert refused.status_code == 403
    with db.session_scope() as session:
        invites = session.scalars(select(Invite).where(Invite.pep_id == world.pep_a)).all()
        live = [i for i in invites if i.revoked_at is None]
        assert len(live) == 1  # only the admin's (and add_pep's none): refusals made nothing
        not_found = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "pep.not_found")
        ).all()
        assert {e.pep_id for e in not_found} >= {world.pep_b, 999999}


def test_a_submitted_pep_gets_no_new_code(world: World) -> None:
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        submit_voice(session, pep)
    status, page = _invite(logged_in(world.dt_a), world.pep_a)
    assert status == 409 and "already been sent" in page and "invite-code" not in page


def test_child_names_are_escaped(world: World) -> None:
    with db.session_scope() as session:
        child = add_child(session, "Oak Primary", NASTY, 3)
        pep = add_pep(session, child.id, uk_today() + timedelta(days=1))
        session.flush()
        record_answer(session, pep, "feeling_now", NASTY, AnsweredBy.child, "ks1_2")
        pep_id = pep.id
    c = logged_in(world.dt_a)
    home = c.get("/review").text
    _, card = _invite(c, pep_id)
    for page in (home, card):
        assert NASTY not in page and "<b>x</b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page


def test_the_carer_guide(world: World) -> None:
    c = logged_in(world.vs)  # every staff member may read and print it
    response = c.get("/review/carer-guide")
    assert response.status_code == 200
    page = response.text
    for words in (
        "without answering for the child",
        "Marking who answered",
        "Just me",
        "Me, with my carer's help",
        "My carer, for me",
        "What happens to the answers",
        "If the child says something worrying",
        "0800 1111",
        "Childline",
        "tell the school's designated safeguarding lead",
        "999",
    ):
        assert words in page, words
    assert "review-dashboard.css" in page and "style=" not in page
    anonymous = logged_in(world.dt_a)
    anonymous.cookies.clear()
    assert anonymous.get("/review/carer-guide").status_code == 303
