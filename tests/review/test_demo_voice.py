"""The demo child whose reflection is already answered: a newcomer sees a real review."""

from __future__ import annotations

from html import unescape

from bot import db
from bot.models import Answer, PepStatus
from bot.services.demo_voice import DEMO_ANSWERS, seed_answered_child
from tests.review.helpers import World, logged_in


def test_the_demo_child_is_answered_sent_and_seeded_once(world: World) -> None:
    with db.session_scope() as session:
        pep = seed_answered_child(session, "Ash Academy", actor="test")
        assert pep is not None
        pep_id = pep.id
        assert pep.status == PepStatus.submitted
        assert seed_answered_child(session, "Ash Academy", actor="test") is None
        answers = {a.question_key: a for a in session.query(Answer).filter_by(pep_id=pep_id)}
    assert set(answers) == set(DEMO_ANSWERS)
    assert answers["friends"].skipped and answers["friends"].text is None
    assert answers["going_well"].text == DEMO_ANSWERS["going_well"][0]
    assert any(tag.startswith("support:") for tag in answers["help_wanted"].tags)

    page = unescape(logged_in(world.dt_b).get(f"/review/peps/{pep_id}").text)
    assert "i got moved up in reading and i read a hole chapter book" in page
    assert "Robin" in page


def test_another_school_never_sees_the_demo_child(world: World) -> None:
    with db.session_scope() as session:
        pep = seed_answered_child(session, "Ash Academy", actor="test")
        assert pep is not None
    assert logged_in(world.dt_a).get(f"/review/peps/{pep.id}").status_code == 404
