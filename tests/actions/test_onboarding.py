from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.onboarding import ActionLinkInvite
from bot.models import Invite, utcnow
from bot.services.answers import record_answer
from bot.services.conversation import link_conversation
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


def _link(code: str, sender: str) -> None:
    """What the app's channels do before they send the engine "/start"."""
    link_conversation(code, sender, client="test")


async def test_a_linked_conversation_starts_and_sets_phase(committed_db: Engine) -> None:
    _link(_new_code(committed_db), "chat-1")
    events, said = await _run("chat-1", "/start", intent="start")
    assert said == ["utter_intro"]
    assert SlotSet("pep_linked", True) in events
    assert SlotSet("phase", "ks1_2") in events


@pytest.mark.parametrize(
    ("intent", "said"),
    [
        ("start", ["utter_not_linked"]),
        ("inform", ["utter_not_linked"]),
        ("greet", ["utter_greet", "utter_ask_code"]),
    ],
)
async def test_an_unlinked_conversation_is_asked_for_a_code(
    committed_db: Engine, intent: str, said: list[str]
) -> None:
    code = _new_code(committed_db)
    # Even a code typed to the engine links nothing: only the app's channels redeem codes.
    events, replies = await _run("chat-3", f"my code is {code}", intent=intent)
    assert replies == said
    assert events == [SlotSet("pep_linked", False)]
    with Session(committed_db) as session:
        assert session.scalars(select(Invite)).one().bound_to is None


async def test_a_revoked_link_unlinks_the_conversation(committed_db: Engine) -> None:
    code = _new_code(committed_db)
    _link(code, "chat-5")
    with Session(committed_db) as session:
        issue_invite(session, session.scalars(select(Invite)).one().pep)
        session.commit()
    events, said = await _run("chat-5", "/start", intent="start")
    assert said == ["utter_not_linked"]
    assert events == [SlotSet("pep_linked", False)]


async def test_a_child_coming_back_carries_on_where_they_left_off(committed_db: Engine) -> None:
    _link(_new_code(committed_db), "chat-7")
    await _run("chat-7", "/start", intent="start")
    with Session(committed_db) as session:
        pep = session.scalars(select(Invite)).one().pep
        record_answer(session, pep, "going_well", "art", "with_carer", "ks1_2")
        record_answer(session, pep, "proud", None, "with_carer", "ks1_2", skipped=True)
        session.commit()
    events, said = await _run("chat-7", "/start", intent="start")
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
    _link(code, "chat-8")
    events, _ = await _run("chat-8", "/start", intent="start")
    plan = next(e["value"] for e in events if e["name"] == "plan")
    assert plan[2] == "followup_get_better_at"
    assert "followup_help_wanted" not in plan
    assert SlotSet("previous_get_better_at", "reading") in events
