from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.onboarding import ActionLinkInvite
from bot.models import Invite, utcnow
from bot.questions import questions_for
from bot.services.answers import record_answer
from bot.services.directory import add_child, add_pep, add_school
from bot.services.invites import issue_invite
from tests.actions.helpers import responses, tracker_for


def _new_code(engine: Engine, *, expired: bool = False) -> str:
    with Session(engine) as session:
        school = add_school(session, "Oak Primary")
        child = add_child(session, school.name, "Sam", 5)
        pep = add_pep(session, child.id, "2030-01-10")
        now = utcnow() - timedelta(days=400) if expired else None
        code = issue_invite(session, pep, now=now)
        session.commit()
        return code


async def _run(sender: str, text: str, **kwargs: object) -> tuple[list[object], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ActionLinkInvite().run(dispatcher, tracker_for(sender, text, **kwargs), {})
    return list(events), responses(dispatcher)


async def test_code_passed_as_entity_links_and_sets_phase(committed_db: Engine) -> None:
    code = _new_code(committed_db)
    events, said = await _run(
        "chat-1", "/start", intent="start", entities=[{"entity": "invite_code", "value": code}]
    )
    assert SlotSet("pep_linked", True) in events
    assert SlotSet("phase", "ks1_2") in events
    assert SlotSet("plan", [q.key for q in questions_for(5)]) in events
    assert said == ["utter_intro"]
    with Session(committed_db) as session:
        invite = session.scalars(select(Invite)).one()
        assert invite.bound_to is not None and "chat-1" not in invite.bound_to


async def test_code_typed_in_lower_case_inside_a_sentence(committed_db: Engine) -> None:
    code = _new_code(committed_db)
    events, _ = await _run("chat-2", f"hi my code is {code.lower()}", intent="start")
    assert SlotSet("pep_linked", True) in events


@pytest.mark.parametrize(
    ("text", "expected"),
    [("my code is 2345-ABCD", "utter_code_unknown"), ("hello there", "utter_code_unknown")],
)
async def test_unknown_or_missing_code_is_refused_kindly(
    committed_db: Engine, text: str, expected: str
) -> None:
    _new_code(committed_db)
    events, said = await _run("chat-3", text, intent="start")
    assert events == [SlotSet("pep_linked", False)]
    assert said == [expected]


async def test_expired_code_is_refused(committed_db: Engine) -> None:
    code = _new_code(committed_db, expired=True)
    events, said = await _run("chat-4", code, intent="start")
    assert events == [SlotSet("pep_linked", False)]
    assert said == ["utter_code_expired"]


async def test_code_used_by_another_chat_is_refused(committed_db: Engine) -> None:
    code = _new_code(committed_db)
    await _run("chat-5", code, intent="start")
    events, said = await _run("chat-6", code, intent="start")
    assert events == [SlotSet("pep_linked", False)]
    assert said == ["utter_code_used"]


async def test_a_child_coming_back_carries_on_where_they_left_off(committed_db: Engine) -> None:
    code = _new_code(committed_db)
    await _run("chat-7", code, intent="start")
    with Session(committed_db) as session:
        pep = session.scalars(select(Invite)).one().pep
        record_answer(session, pep, "going_well", "art", "with_carer", "ks1_2")
        record_answer(session, pep, "proud", None, "with_carer", "ks1_2", skipped=True)
        session.commit()
    events, said = await _run("chat-7", code, intent="start")
    assert said == ["utter_welcome_back"]
    assert SlotSet("going_well", "art") in events
    assert SlotSet("proud", "__skipped__") in events
    assert SlotSet("answered_by", "with_carer") in events


async def test_last_pep_hopes_are_followed_up(committed_db: Engine) -> None:
    with Session(committed_db) as session:
        school = add_school(session, "Ash Primary")
        child = add_child(session, school.name, "Kai", 6)
        last = add_pep(session, child.id, "2029-06-01")
        record_answer(session, last, "get_better_at", "reading", "child", "ks1_2")
        record_answer(session, last, "going_well", "not followed up", "child", "ks1_2")
        code = issue_invite(session, add_pep(session, child.id, "2030-01-10"))
        session.commit()
    events, _ = await _run("chat-8", code, intent="start")
    plan = next(e["value"] for e in events if e["name"] == "plan")
    assert plan[2] == "followup_get_better_at"
    assert "followup_help_wanted" not in plan
    assert SlotSet("previous_get_better_at", "reading") in events
