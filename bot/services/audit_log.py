"""The audit log as admins read it: who did or viewed what, and when, newest first.

The log holds ids and keys, never a child's words (bot.services.record_event), so showing it
shows no words either. Actors are stored as "staff:<id>", "cli:<OS user>", "child",
"system" ...; a staff actor is shown with their email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, School, StaffUser

PAGE_SIZE = 100
_STAFF_ACTOR = re.compile(r"staff:(\d+)")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # a prefix: "pep." or "pep.exported"
    school_id: int | None = None
    pep_id: int | None = None
    before_id: int | None = None  # the next page: events older than this one


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    school: str
    pep_id: int | None
    detail: str  # "child_id=3, view=dashboard"


def _query(where: AuditFilter) -> Select[Any]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    if where.action:
        query = query.where(AuditEvent.action.startswith(where.action, autoescape=True))
    if where.school_id is not None:
        query = query.where(AuditEvent.school_id == where.school_id)
    if where.pep_id is not None:
        query = query.where(AuditEvent.pep_id == where.pep_id)
    if where.before_id is not None:
        query = query.where(AuditEvent.id < where.before_id)
    return query


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(detail.items()))


def audit_page(session: Session, where: AuditFilter) -> tuple[list[AuditRow], int | None]:
    """One page of events, newest first, and the id to ask for the next page (or None)."""
    events = list(session.scalars(_query(where)))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    staff_ids = {int(m.group(1)) for e in events if (m := _STAFF_ACTOR.fullmatch(e.actor))}
    emails: dict[int, str] = {
        row.id: row.email
        for row in session.execute(
            select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(staff_ids))
        )
    }
    school_ids = {e.school_id for e in events if e.school_id is not None}
    schools: dict[int, str] = {
        row.id: row.name
        for row in session.execute(select(School.id, School.name).where(School.id.in_(school_ids)))
    }
    rows = []
    for event in events:
        match = _STAFF_ACTOR.fullmatch(event.actor)
        actor = emails.get(int(match.group(1)), event.actor) if match else event.actor
        school = schools.get(event.school_id, "") if event.school_id is not None else ""
        rows.append(
            AuditRow(
                event.id,
                event.at,
                actor,
                event.action,
                school,
                event.pep_id,
                _detail(event.detail or {}),
            )
        )
    return rows, (events[-1].id if more and events else None)
