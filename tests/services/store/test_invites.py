from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.child_texts import REFUSED_MESSAGE
from bot.models import AuditEvent, Invite, Pep
from bot.services import ServiceError
from bot.services.answers import submit_voice
from bot.services.invites import (
    ConversationLinkedElsewhere,
    InviteError,
    InviteFailure,
    bound_pep_ids,
    issue_invite,
    new_invite,
    pep_for_conversation,
    pep_id_for_code,
    redeem_invite,
)
from bot.settings import Settings

NOW = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)


def _reason(session: Session, code: str, conversation: str, now: datetime = NOW) -> InviteFailure:
    with pytest.raises(InviteError) as caught:
        redeem_invite(session, code, conversation, now=now)
    assert caught.value.message  # something to show the child
    return caught.value.reason


def test_issue_and_redeem(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    assert redeem_invite(session, code, "tg:42", now=NOW + timedelta(hours=1)) is pep
    invite = session.scalars(select(Invite)).one()
    assert invite.bound_at == NOW + timedelta(hours=1)
    assert pep_for_conversation(session, "tg:42") is pep
    assert pep_for_conversation(session, "tg:43") is None


def test_code_and_conversation_never_stored_in_clear(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    redeem_invite(session, code, "conversation-secret-id", now=NOW)
    invite = session.scalars(select(Invite)).one()
    stored = " ".join(str(v) for v in (invite.code_hash, invite.bound_to))
    events = " ".join(str(e.detail) for e in session.scalars(select(AuditEvent)))
    for clear in (code, code.replace("-", ""), code.lower(), "conversation-secret-id"):
        assert clear not in stored
        assert clear not in events
    assert len(invite.code_hash) == 64


@pytest.mark.parametrize("typed", ["{}", "{lower}", "{spaced}", " {bare} ", "{lower_bare}"])
def test_code_normalisation(session: Session, pep: Pep, typed: str) -> None:
    code = issue_invite(session, pep, now=NOW)
    bare = code.replace("-", "")
    text = typed.format(
        code, lower=code.lower(), spaced=code.replace("-", " "), bare=bare, lower_bare=bare.lower()
    )
    assert redeem_invite(session, text, "web:1", now=NOW) is pep


def test_wrong_code(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    assert _reason(session, wrong, "c1") is InviteFailure.unknown
    assert _reason(session, "", "c1") is InviteFailure.unknown
    assert _reason(session, "hello there", "c1") is InviteFailure.unknown


def test_expiry_uses_ttl(session: Session, pep: Pep, app_settings: Settings) -> None:
    code = issue_invite(session, pep, now=NOW)
    expires = NOW + timedelta(days=app_settings.invites.ttl_days)
    assert session.scalars(select(Invite)).one().expires_at == expires
    assert _reason(session, code, "c1", now=expires) is InviteFailure.expired
    assert redeem_invite(session, code, "c1", now=expires - timedelta(seconds=1)) is pep


def test_other_conversation_refused_same_one_idempotent(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    redeem_invite(session, code, "c1", now=NOW)
    assert _reason(session, code, "c2") is InviteFailure.used_elsewhere
    # The same chat may send the code again, even after it has expired.
    later = NOW + timedelta(days=365)
    assert redeem_invite(session, code, "c1", now=later) is pep
    invite = session.scalars(select(Invite)).one()
    assert invite.bound_at == NOW
    redeemed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invite.redeemed")
    ).all()
    assert len(redeemed) == 1
    assert redeemed[0].pep_id == pep.id
    assert redeemed[0].school_id == pep.child.school_id


def test_submitted_pep(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    redeem_invite(session, code, "c1", now=NOW)
    submit_voice(session, pep)
    assert _reason(session, code, "c1") is InviteFailure.submitted
    assert pep_for_conversation(session, "c1") is None
    assert pep_for_conversation(session, "c1", include_submitted=True) is pep
    with pytest.raises(ServiceError):
        issue_invite(session, pep)


def test_a_conversation_is_bound_to_one_pep(session: Session, pep: Pep) -> None:
    from bot.services import directory

    other = directory.add_pep(session, pep.child_id, "2031-01-01")
    redeem_invite(session, issue_invite(session, pep, now=NOW), "c1", now=NOW)
    other_code = issue_invite(session, other, now=NOW)
    with pytest.raises(ConversationLinkedElsewhere) as caught:
        redeem_invite(session, other_code, "c1", now=NOW + timedelta(minutes=5))
    assert isinstance(caught.value, InviteError)
    assert caught.value.reason is InviteFailure.used_elsewhere
    assert "new chat" in caught.value.message
    assert pep_for_conversation(session, "c1") is pep
    # The refused code is still free for a new conversation.
    assert redeem_invite(session, other_code, "c2", now=NOW) is other
    assert pep_for_conversation(session, "c2") is other
    # A second code for the same PEP is fine in the same conversation.
    assert redeem_invite(session, issue_invite(session, pep, now=NOW), "c1", now=NOW) is pep


def test_a_conversation_stays_with_its_submitted_pep(session: Session, pep: Pep) -> None:
    from bot.services import directory

    redeem_invite(session, issue_invite(session, pep, now=NOW), "c1", now=NOW)
    submit_voice(session, pep)
    nxt = directory.add_pep(session, pep.child_id, "2031-01-01")
    with pytest.raises(ConversationLinkedElsewhere):
        redeem_invite(session, issue_invite(session, nxt, now=NOW), "c1", now=NOW)
    assert pep_for_conversation(session, "c1") is None


def test_pep_for_conversation_is_exact_not_the_newest(session: Session, pep: Pep) -> None:
    """Old data may bind one conversation to two PEPs: no guess, so nothing is misfiled."""
    from bot.services import directory

    other = directory.add_pep(session, pep.child_id, "2031-01-01")
    redeem_invite(session, issue_invite(session, pep, now=NOW), "c1", now=NOW)
    redeem_invite(session, issue_invite(session, other, now=NOW), "c2", now=NOW)
    # A much later bound_at on another PEP's invite does not make it this conversation's PEP.
    for invite in session.scalars(select(Invite).where(Invite.pep_id == other.id)):
        invite.bound_at = NOW + timedelta(days=30)
    session.flush()
    assert pep_for_conversation(session, "c1") is pep
    assert bound_pep_ids(session, "c1") == {pep.id}
    # Bind c1's hash to the other PEP's invite too, as the old "follow the latest" rule did.
    c1_hash = session.scalars(select(Invite.bound_to).where(Invite.pep_id == pep.id)).one()
    late = issue_invite(session, other, now=NOW)
    for invite in session.scalars(select(Invite).where(Invite.bound_to.is_(None))):
        invite.bound_to, invite.bound_at = c1_hash, NOW + timedelta(days=60)
    session.flush()
    assert late
    assert bound_pep_ids(session, "c1") == {pep.id, other.id}
    assert pep_for_conversation(session, "c1") is None
    assert pep_for_conversation(session, "c1", include_submitted=True) is None


def test_pep_id_for_code_binds_nothing(session: Session, pep: Pep) -> None:
    code = issue_invite(session, pep, now=NOW)
    assert pep_id_for_code(session, code.lower()) == pep.id
    assert pep_id_for_code(session, "ZZZZ-9999") is None
    assert session.scalars(select(Invite)).one().bound_to is None


def test_a_new_invite_revokes_the_older_ones(session: Session, pep: Pep) -> None:
    first = issue_invite(session, pep, now=NOW)
    assert redeem_invite(session, first, "c1", now=NOW) is pep
    second = issue_invite(session, pep, now=NOW)
    assert first != second
    # The old code is dead, and so is the conversation it linked (a lost device).
    assert _reason(session, first, "c1") is InviteFailure.revoked
    assert pep_for_conversation(session, "c1") is None
    assert redeem_invite(session, second, "c2", now=NOW) is pep
    assert pep_for_conversation(session, "c2") is pep
    issued = session.scalars(select(AuditEvent).where(AuditEvent.action == "invite.issued")).all()
    assert [e.detail["revoked_older"] for e in issued] == [0, 1]


def test_every_refusal_says_the_same(session: Session, pep: Pep) -> None:
    """A guesser cannot tell an unknown code from a used, expired or revoked one."""
    from bot.services import directory

    used = issue_invite(session, pep, now=NOW)
    redeem_invite(session, used, "c1", now=NOW)
    other = directory.add_pep(session, pep.child_id, "2031-02-01")
    revoked = issue_invite(session, other, now=NOW)
    issue_invite(session, other, now=NOW)
    later = directory.add_pep(session, pep.child_id, "2031-03-01")
    expired = issue_invite(session, later, now=NOW - timedelta(days=400))
    cases = {
        InviteFailure.unknown: ("ZZZZ-9999", "c9"),
        InviteFailure.used_elsewhere: (used, "c2"),
        InviteFailure.revoked: (revoked, "c3"),
        InviteFailure.expired: (expired, "c4"),
    }
    messages = set()
    for reason, (code, conversation) in cases.items():
        with pytest.raises(InviteError) as caught:
            redeem_invite(session, code, conversation, now=NOW)
        assert caught.value.reason is reason
        messages.add(caught.value.message)
    assert messages == {REFUSED_MESSAGE}


def test_a_link_token_redeems_like_the_code(session: Session, pep: Pep) -> None:
    invite = new_invite(session, pep, now=NOW)
    assert len(invite.link_token) >= 43 and invite.code not in invite.link_token
    assert redeem_invite(session, invite.link_token, "c1", now=NOW) is pep
    # Same invite: the code now belongs to that conversation too.
    assert redeem_invite(session, invite.code, "c1", now=NOW) is pep
    assert _reason(session, invite.link_token, "c2") is InviteFailure.used_elsewhere
    row = session.scalars(select(Invite)).one()
    assert invite.link_token not in (row.link_token_hash or "")
    assert _reason(session, invite.link_token[:-1] + "x", "c3") is InviteFailure.unknown


def test_invites_survive_a_key_rotation(
    session: Session, pep: Pep, monkeypatch: pytest.MonkeyPatch, app_settings: Settings
) -> None:
    from bot.settings import get_settings

    linked = new_invite(session, pep, now=NOW)
    redeem_invite(session, linked.code, "c1", now=NOW)
    old_key = app_settings.secret_key.get_secret_value()
    monkeypatch.setenv("SECRET_KEY", "a-brand-new-key-for-rotation-0123456789")
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", f'["{old_key}"]')
    get_settings.cache_clear()
    assert pep_for_conversation(session, "c1") is pep
    assert redeem_invite(session, linked.link_token, "c1", now=NOW) is pep
    # Once the old key is dropped, what was keyed with it matches nothing.
    monkeypatch.delenv("PREVIOUS_SECRET_KEYS")
    get_settings.cache_clear()
    assert pep_for_conversation(session, "c1") is None
    assert _reason(session, linked.code, "c1") is InviteFailure.unknown
