"""A disclosure through the REST webhook reaches the DSL, and never the PEP."""

from __future__ import annotations

import json
import uuid

import pytest

from bot import db
from bot.models import Pep, SafeguardingConcern, StaffUser
from bot.services.access import AccessDenied, concern_words, viewer_for_email, visible_concerns
from bot.services.concerns import concern_rows
from bot.services.export import export_child_voice
from tests.integration.stack import Stack

pytestmark = pytest.mark.engine

DISCLOSURE = "I'm being forced to have sex and I'm only 12 years old"


def _staff(stack: Stack, pep_id: int) -> dict[str, str]:
    stack.use_store()
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        staff = session.query(StaffUser).filter_by(school_id=pep.child.school_id).all()
        return {str(s.role): s.email for s in staff}


def test_disclosure_mid_form_alerts_the_dsl_and_stays_out_of_the_pep(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=7)
    sender = f"sg-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    stack.say(sender, "😐 OK")
    already = len(stack.mailbox.messages)

    replies = stack.texts(sender, DISCLOSURE)
    said = " ".join(replies)
    assert "Thank you for telling me" in said
    assert "not your fault" in said
    assert "can't keep this secret" in said
    assert "0800 1111" in said and "999" in said
    assert replies[-1] == "Would you like to carry on with the questions, or stop for now?"

    # The DSL is emailed within seconds; nothing of the child's words is in it.
    mail = stack.mailbox.wait_for(already + 1, timeout=15)[already:]
    staff = _staff(stack, pep_id)
    assert len(mail) == 1
    assert mail[0].rcpt_tos == [staff["dsl"]]
    body = mail[0].message.get_content()
    assert "forced" not in mail[0].message["Subject"] and "forced" not in body

    # Only the DSL can read the words.
    stack.use_store()
    with db.session_scope() as session:
        dsl = viewer_for_email(session, staff["dsl"])
        teacher = viewer_for_email(session, staff["designated_teacher"])
        rows = concern_rows(session, visible_concerns(dsl))
        (summary,) = [c for c in rows if c.pep_id == pep_id]
        assert concern_words(session, dsl, summary.id) == DISCLOSURE
        with pytest.raises(AccessDenied):
            concern_words(session, teacher, summary.id)
        concern = session.get(SafeguardingConcern, summary.id)
        assert concern is not None and concern.question_key == "going_well"

    # Carry on: the interrupted question is asked again; the PEP never holds the words.
    replies = stack.texts(sender, "/affirm")
    assert replies[-1] == "Since your last PEP, what's been going well at school?"
    stack.say(sender, "drama club")
    with db.session_scope() as session:
        exported = json.dumps(export_child_voice(session, pep_id, actor="test"))
    assert "forced" not in exported
    assert "drama club" in exported


@pytest.mark.parametrize(
    "message",
    [
        "i make myself sick after i eat so i dont get fat",
        "my older cousin makes me carry weed and money for him",
        "sometimes i think about killing myself",
    ],
)
def test_regression_disclosures_are_caught(stack: Stack, message: str) -> None:
    pep_id, code = stack.new_pep(year_group=9)
    sender = f"sg-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    replies = stack.texts(sender, message)
    assert any("Thank you for telling me" in r for r in replies)
    assert stack.answers(pep_id) == {}


def test_lookalikes_are_answers_not_alerts(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=9)
    sender = f"sg-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    replies = stack.texts(sender, "maths is killing me lol")
    assert not any("Thank you for telling me" in r for r in replies)
    assert stack.answers(pep_id)["feeling_now"].text == "maths is killing me lol"
