"""Server-side staff sessions for the review app.

A session is a row in `staff_sessions`, found by the keyed hash of a random token
(bot.security.keyed_hash; matched under every key in the ring, so a key rotation logs nobody
out). The cookie carries the token signed for "staff-session" (bot.keys.sign), so a cookie we
did not make is refused before any lookup. A session ends after `IDLE` without a request,
`ABSOLUTE` after login whatever happens, when its account is disabled or its password is
set again, or at logout, which deletes the row.

The review app's routes call the last four functions, which each open their own unit of work:
a route never holds a database session of its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.keys import sign, unsign
from bot.models import StaffSession, StaffUser, utcnow
from bot.security import keyed_hash, keyed_hashes
from bot.services import record_event
from bot.services.scope import StaffContext

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
SIGN_PURPOSE = "staff-session"
# last_seen_at is written at most this often, so a page with many requests writes once.
_TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class NewSession:
    row: StaffSession
    cookie: str  # what the browser keeps: the signed token


def create_session(session: Session, staff: StaffUser, now: datetime | None = None) -> NewSession:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=keyed_hash(token),
        staff_id=staff.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE,
        csrf_secret=secrets.token_urlsafe(32),
    )
    session.add(row)
    session.flush()
    return NewSession(row, sign(SIGN_PURPOSE, token))


def _find(session: Session, cookie: str | None) -> StaffSession | None:
    token = unsign(SIGN_PURPOSE, cookie)
    if token is None:
        return None
    return session.scalar(
        select(StaffSession).where(StaffSession.token_hash.in_(keyed_hashes(token)))
    )


def lookup_session(
    session: Session, cookie: str | None, now: datetime | None = None
) -> StaffSession | None:
    """The live session for `cookie`, its last use updated; None (and the row deleted) when
    it has expired, idled out or its account was disabled."""
    row = _find(session, cookie)
    if row is None:
        return None
    now = now or utcnow()
    if now >= row.expires_at or now >= row.last_seen_at + IDLE or row.staff.disabled_at:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row


def end_session(session: Session, cookie: str | None) -> StaffSession | None:
    """Logout: delete the cookie's session row. Returns what was deleted, if anything."""
    row = _find(session, cookie)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def end_all_sessions(session: Session, staff_id: int) -> int:
    """Every session of an account (a new password, a disabled account). How many ended."""
    result = session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_expired_sessions(session: Session, now: datetime | None = None) -> int:
    """Rows no cookie can use any more (for a periodic job)."""
    now = now or utcnow()
    result = session.execute(
        delete(StaffSession).where(
            (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - IDLE)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- One request's unit of work (bot.review.auth and bot.review.routes) ---------------------


@dataclass(frozen=True)
class LiveSession:
    staff: StaffContext
    csrf_secret: str


def staff_for_cookie(cookie: str | None) -> LiveSession | None:
    """Who `cookie` is logged in as (its last use updated), or None without a live session."""
    with session_scope() as session:
        row = lookup_session(session, cookie)
        if row is None:
            return None
        staff = row.staff
        context = StaffContext(staff.id, staff.email, staff.role, staff.school_id)
        return LiveSession(context, row.csrf_secret)


def has_live_session(cookie: str | None) -> bool:
    with session_scope() as session:
        return lookup_session(session, cookie) is not None


def log_in(old_cookie: str | None, staff_id: int | None) -> str | None:
    """A new session for an account that authenticated (`staff_id`), its cookie; None when
    there is none. The browser's old session ends either way."""
    with session_scope() as session:
        end_session(session, old_cookie)
        staff = session.get(StaffUser, staff_id) if staff_id else None
        return create_session(session, staff).cookie if staff else None


def log_out(cookie: str | None, ctx: StaffContext) -> None:
    with session_scope() as session:
        end_session(session, cookie)
        record_event(
            session, ctx.actor, "staff.logout", school_id=ctx.school_id, staff_id=ctx.staff_id
        )
