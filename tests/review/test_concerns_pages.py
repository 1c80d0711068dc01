"""The safeguarding concerns pages: who reads the words, the order, the acknowledgement."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.alerts.compose import compose_alert
from bot.alerts.facts import AlertFacts
from bot.alerts.recipients import Recipients
from bot.models import AuditEvent, Pep, SafeguardingConcern
from bot.services.concerns import TEXT_MAX
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.settings import get_settings
from tests.review.helpers import World, client, csrf_from, logged_in

WORDS = "my uncle Zebedee hits me with a belt"
FOLLOW_UP = "and he took my phone away"
NASTY = "<script>alert(1)</script><b>x</b>"
START = datetime(2030, 1, 10, 9, 30, tzinfo=UTC)


def disclose(
    pep_id: int | None, words: str, *, conversation: str = "chat-1", message: str = "m1",
    at: datetime = START, category: str = "physical_abuse", question: str | None = "hard",
) -> int:  # fmt: skip
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id) if pep_id is not None else None
        concern, _ = report_disclosure(
            session, pep, words=words, category=category, source="engine",
            question_key=question, dedupe_key=dedupe_key_for(conversation, message),
            conversation_hash=f"hash-{conversation}", now=at,
        )  # fmt: skip
        return concern.id


def actions(**detail: object) -> list[tuple[str, dict[str, object]]]:
    with db.session_scope() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [
            (e.action, e.detail)
            for e in events
            if all(e.detail.get(k) == v for k, v in detail.items())
        ]


def concern_row(concern_id: int) -> SafeguardingConcern:
    with db.session_scope() as session:
        row = session.get(SafeguardingConcern, concern_id)
        assert row is not None
        session.refresh(row)
        session.expunge(row)
        return row


@pytest.fixture
def concern(world: World) -> int:
    """A concern at Oak Primary (school A) with a follow-up message, unacknowledged."""
    concern_id = disclose(world.pep_a, WORDS)
    follow_up = disclose(
        world.pep_a, FOLLOW_UP, message="m2", at=START + timedelta(minutes=3),
        category="neglect", question=None,
    )  # fmt: skip
    assert follow_up == concern_id
    return concern_id


def test_the_dsl_reads_every_message_in_order(world: World, concern: int) -> None:
    page = logged_in(world.dsl_a).get(f"/review/concerns/{concern}")
    assert page.status_code == 200
    text = page.text
    assert WORDS in text and FOLLOW_UP in text
    assert text.index(WORDS) < text.index(FOLLOW_UP)
    # Each message with its UK time, category and question; the child and their PEP.
    assert "Thursday 10 January 2030, 09:30 (GMT, UK time)" in text
    assert "Thursday 10 January 2030, 09:33 (GMT, UK time)" in text
    assert "Physical abuse" in text and "Neglect" in text
    assert "What&#39;s been hard or tricky" in text
    assert "Not an answer to a question" in text
    assert "Robin" in text and f'href="/review/peps/{world.pep_a}"' in text
    assert "Not acknowledged yet" in text
    assert 'action="/review/concerns/' in text
    # The reading is audited through bot.services.access, never with the words.
    assert ("concern.viewed", {"concern_id": concern, "viewer_id": world.dsl_a.ctx.staff_id}) in (
        actions(concern_id=concern)
    )
    assert all(WORDS not in str(detail) for _, detail in actions())


@pytest.mark.parametrize("who", ["dt_a", "vs"])
def test_teacher_and_virtual_school_see_the_summary_never_the_words(
    world: World, concern: int, who: str
) -> None:
    staff = getattr(world, who)
    c = logged_in(staff)
    for path in (f"/review/concerns/{concern}", "/review/concerns"):
        page = c.get(path)
        assert page.status_code == 200
        for words in (WORDS, FOLLOW_UP, "Zebedee", "belt", "phone"):
            assert words not in page.text
        assert "Robin" in page.text
    page = c.get(f"/review/concerns/{concern}")
    assert "The school's Designated Safeguarding Lead has the details" in page.text
    assert "Physical abuse" in page.text  # the summary
    assert '<form class="concern-form"' not in page.text
    assert [a for a, _ in actions(concern_id=concern) if a == "concern.viewed"] == []
    assert ("concern.summary_viewed") in [a for a, _ in actions(concern_id=concern)]
    # And they cannot acknowledge it.
    refused = c.post(
        f"/review/concerns/{concern}/acknowledge",
        data={"csrf": csrf_from(page.text), "note": "n", "action_taken": "a"},
    )
    assert refused.status_code == 403
    assert concern_row(concern).acknowledged_at is None


def test_another_schools_staff_get_not_found(world: World, concern: int) -> None:
    other = disclose(world.pep_b, "something at Ash", conversation="chat-b")
    c = logged_in(world.dsl_a)
    page = c.get(f"/review/concerns/{other}")
    assert page.status_code == 404
    assert "something at Ash" not in page.text
    assert c.get("/review/concerns/999999").status_code == 404
    assert ("concern.not_found", {"concern_id": other}) in [
        (a, {"concern_id": d["concern_id"]}) for a, d in actions(concern_id=other)
    ]
    listing = c.get("/review/concerns").text
    assert f'/review/concerns/{other}"' not in listing
    assert f'/review/concerns/{concern}"' in listing
    # Nor can they acknowledge it.
    refused = c.post(
        f"/review/concerns/{other}/acknowledge",
        data={"csrf": csrf_from(listing), "note": "n", "action_taken": "a"},
    )
    assert refused.status_code == 404
    assert concern_row(other).acknowledged_at is None
    # B's designated teacher does not see A's concern.
    assert logged_in(world.dt_b).get(f"/review/concerns/{concern}").status_code == 404


def test_an_admin_reads_any_school(world: World, concern: int) -> None:
    other = disclose(world.pep_b, "something at Ash", conversation="chat-b")
    c = logged_in(world.admin)
    assert WORDS in c.get(f"/review/concerns/{concern}").text
    assert "something at Ash" in c.get(f"/review/concerns/{other}").text


def test_the_childs_words_are_escaped(world: World) -> None:
    concern_id = disclose(world.pep_a, NASTY)
    text = logged_in(world.dsl_a).get(f"/review/concerns/{concern_id}").text
    assert NASTY not in text
    assert html.escape(NASTY, quote=False) in text.replace("&#39;", "'")
    assert "<script>" not in text


def test_acknowledge_needs_the_forms_token(world: World, concern: int) -> None:
    c = logged_in(world.dsl_a)
    form = {"note": "spoke to Robin", "action_taken": "referred to social care"}
    assert c.post(f"/review/concerns/{concern}/acknowledge", data=form).status_code == 403
    bad = {**form, "csrf": "forged"}
    assert c.post(f"/review/concerns/{concern}/acknowledge", data=bad).status_code == 403
    assert concern_row(concern).acknowledged_at is None


def test_acknowledge_needs_a_note_and_the_action(world: World, concern: int) -> None:
    c = logged_in(world.dsl_a)
    token = csrf_from(c.get(f"/review/concerns/{concern}").text)
    for form in ({"note": "  ", "action_taken": "x"}, {"note": "x", "action_taken": ""}):
        page = c.post(f"/review/concerns/{concern}/acknowledge", data={"csrf": token, **form})
        assert page.status_code == 400
        assert "That wasn't saved" in page.text
    # What was typed is kept, escaped.
    page = c.post(
        f"/review/concerns/{concern}/acknowledge",
        data={"csrf": token, "note": NASTY, "action_taken": ""},
    )
    assert NASTY not in page.text and "&lt;script&gt;" in page.text
    assert concern_row(concern).acknowledged_at is None


def test_the_dsl_acknowledges_once(world: World, concern: int) -> None:
    c = logged_in(world.dsl_a)
    token = csrf_from(c.get(f"/review/concerns/{concern}").text)
    note = "Spoke to Robin's carer. " + NASTY
    done = c.post(
        f"/review/concerns/{concern}/acknowledge",
        data={"csrf": token, "note": note, "action_taken": "Referred to children's social care"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/review/concerns/{concern}?done=acknowledged"
    row = concern_row(concern)
    assert row.acknowledged_at is not None
    assert row.acknowledged_by == world.dsl_a.ctx.staff_id
    assert row.acknowledgement_note == note
    assert row.action_taken == "Referred to children's social care"
    [(_, detail)] = [(a, d) for a, d in actions(concern_id=concern) if a == "concern.acknowledged"]
    assert detail == {
        "concern_id": concern, "staff_id": world.dsl_a.ctx.staff_id, "role": "dsl",
    }  # fmt: skip
    assert all("Spoke" not in str(d) and "Referred" not in str(d) for _, d in actions())

    page = c.get(done.headers["location"]).text
    assert "Thank you. The concern is marked as acknowledged." in page
    assert f"Acknowledged by {world.dsl_a.email}" in page
    assert "Referred to children&#39;s social care" in page
    assert NASTY not in page and "&lt;script&gt;" in page
    assert '<form class="concern-form"' not in page  # read-only now

    # A second try changes nothing.
    again = c.post(
        f"/review/concerns/{concern}/acknowledge",
        data={"csrf": token, "note": "another", "action_taken": "another"},
    )
    assert again.headers["location"].endswith("?done=already")
    assert concern_row(concern).acknowledgement_note == note

    # The teacher sees that it was acknowledged, but not the DSL's note.
    teacher = logged_in(world.dt_a).get(f"/review/concerns/{concern}").text
    assert f"Acknowledged by {world.dsl_a.email}" in teacher
    assert "Spoke" not in teacher and "Referred" not in teacher

    # A later disclosure in the same chat opens a new concern.
    assert disclose(world.pep_a, "more", message="m3") != concern


def test_the_list_puts_open_concerns_first_then_the_newest(world: World) -> None:
    old_open = disclose(world.pep_a, "words one", conversation="c1", at=START)
    new_closed = disclose(world.pep_a, "words two", conversation="c2", at=START + timedelta(days=2))
    new_open = disclose(world.pep_a, "words three", conversation="c3", at=START + timedelta(days=1))
    unlinked = disclose(None, "words four", conversation="c4", at=START + timedelta(days=3))
    with db.session_scope() as session:
        row = session.get(SafeguardingConcern, new_closed)
        assert row is not None
        row.acknowledged_at = START + timedelta(days=2, hours=1)

    def order(page: str) -> list[int]:
        return [int(i) for i in re.findall(r'<a href="/review/concerns/(\d+)">', page)]

    c = logged_in(world.dsl_a)
    listing = c.get("/review/concerns")
    assert listing.status_code == 200
    assert order(listing.text) == [new_open, old_open, new_closed]
    assert "2 not acknowledged yet" in listing.text
    assert "words" not in listing.text
    [(_, detail)] = [
        (a, d) for a, d in actions(staff_id=world.dsl_a.ctx.staff_id) if a == "concern.listed"
    ]
    assert detail["concerns"] == 3
    # An admin also sees the concern not linked to a PEP yet.
    admin = logged_in(world.admin).get("/review/concerns").text
    assert order(admin) == [unlinked, new_open, old_open, new_closed]
    assert "Not known yet: the chat had not been linked to a PEP" in admin


def test_the_navigation_links_to_the_concerns(world: World) -> None:
    link = '<a href="/review/concerns">Safeguarding concerns</a>'
    for staff in (world.dt_a, world.dsl_a, world.vs, world.admin):
        # In review/base.html: on every page, here one that is not the concerns'.
        page = logged_in(staff).get("/review/concerns/999999")
        assert page.status_code == 404 and link in page.text
    assert link not in client().get("/review/login").text


def test_the_alert_emails_link_leads_to_the_concern_after_logging_in(
    world: World, concern: int
) -> None:
    settings = get_settings()
    facts = AlertFacts(
        concern_id=concern, created_at=START, category="physical_abuse", source="engine",
        question_key="hard", pep_id=world.pep_a, child_first_name="Robin", year_group=5,
        school_name="Oak Primary",
    )  # fmt: skip
    body = compose_alert(facts, Recipients((world.dsl_a.email,), "dsl"), settings).get_content()
    link = f"{settings.web.base_url.rstrip('/')}/review/concerns/{concern}"
    assert link in body
    path = f"/review/concerns/{concern}"

    c = client()
    to_login = c.get(path)
    assert to_login.status_code == 303
    assert to_login.headers["location"] == f"/review/login?next={path}"
    login_page = c.get(to_login.headers["location"])
    assert f'name="next" value="{path}"' in login_page.text
    logged = c.post(
        "/review/login",
        data={
            "csrf": csrf_from(login_page.text), "email": world.dsl_a.email,
            "password": world.dsl_a.password, "next": path,
        },
    )  # fmt: skip
    assert logged.status_code == 303
    assert logged.headers["location"] == path
    page = c.get(path)
    assert page.status_code == 200 and WORDS in page.text


def test_the_old_email_link_moves_to_the_review_app(world: World, concern: int) -> None:
    c = client()
    moved = c.get(f"/dsl/concerns/{concern}")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/review/concerns/{concern}"
    assert c.get(f"/dsl/concerns/{concern}/x").status_code == 404


def test_a_long_note_fits_and_a_longer_one_is_refused_kindly(world: World, concern: int) -> None:
    c = logged_in(world.dsl_a)
    token = csrf_from(c.get(f"/review/concerns/{concern}").text)
    url = f"/review/concerns/{concern}/acknowledge"
    too_long = {"csrf": token, "note": "x" * (TEXT_MAX + 1), "action_taken": "done"}
    page = c.post(url, data=too_long)
    assert page.status_code == 400 and "under 3,000 characters" in page.text
    # The longest note, in characters that take the most bytes in a form, is accepted.
    longest = "\u2019" * TEXT_MAX
    done = c.post(url, data={"csrf": token, "note": longest, "action_taken": longest})
    assert done.status_code == 303
    assert concern_row(concern).acknowledgement_note == longest
