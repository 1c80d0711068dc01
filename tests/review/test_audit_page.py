"""The audit log page: admins read who viewed, changed and downloaded what; never words."""

from __future__ import annotations

from html import unescape

from bot import db
from bot.models import AuditEvent, Pep
from bot.services import record_event
from bot.services.answers import record_answer
from bot.services.audit_log import PAGE_SIZE
from tests.review.helpers import World, logged_in

WORDS = "Quillfeather marmalade sandwiches"


def test_admins_read_who_viewed_and_downloaded_a_childs_voice(world: World) -> None:
    with db.session_scope() as session:
        pep = session.get_one(Pep, world.pep_a)
        record_answer(session, pep, "going_well", WORDS, "child", pep.child.phase)
    teacher = logged_in(world.dt_a)
    assert teacher.get(f"/review/peps/{world.pep_a}").status_code == 200
    assert teacher.get(f"/review/peps/{world.pep_a}/export.txt").status_code == 200

    admin = logged_in(world.admin)
    page = unescape(admin.get(f"/review/audit?pep={world.pep_a}").text)
    assert "pep.viewed" in page and "pep.exported" in page
    assert world.dt_a.email in page  # the staff actor by email, not "staff:<id>"
    assert "Oak Primary" in page
    assert WORDS not in page  # the log holds ids and keys only

    # The filter by action keeps only what starts with it; reading the log is recorded.
    page = admin.get("/review/audit?action=pep.exported&school=&pep=").text
    assert "pep.exported" in page and "pep.viewed" not in page
    with db.session_scope() as session:
        viewed = session.query(AuditEvent).filter_by(action="audit.viewed").all()
    assert [e.actor for e in viewed] == [f"staff:{world.admin.ctx.staff_id}"] * 2
    assert viewed[1].detail["filter_action"] == "pep.exported"


def test_older_events_come_a_page_at_a_time(world: World) -> None:
    with db.session_scope() as session:
        for i in range(PAGE_SIZE + 5):
            record_event(session, "system", "test.event", school_id=world.school_a, n=i)
    admin = logged_in(world.admin)
    first = admin.get("/review/audit?action=test.").text
    assert first.count("<code>test.event</code>") == PAGE_SIZE
    assert "n=104" in first and "n=4," not in first and "n=4<" not in first
    older = first.split('href="/review/audit?before=', 1)[1].split('"', 1)[0]
    second = admin.get(f"/review/audit?before={unescape(older)}").text
    assert second.count("<code>test.event</code>") == 5
    assert "Older events" not in second


def test_only_admins_have_the_link(world: World) -> None:
    assert 'href="/review/audit"' in logged_in(world.admin).get("/review").text
    for staff in (world.dt_a, world.dsl_a, world.vs):
        c = logged_in(staff)
        assert 'href="/review/audit"' not in c.get("/review").text
        assert c.get("/review/audit").status_code == 403
