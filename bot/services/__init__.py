"""Business operations on a Session. They flush but never commit: the caller's
session_scope() owns the transaction, so a failed command writes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.models import AuditEvent


class ServiceError(Exception):
    """A refusal whose message is fit to show to the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def record_event(
    session: Session,
    actor: str,
    action: str,
    *,
    school_id: int | None = None,
    pep_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event. `detail` must hold ids and keys only, never message text."""
    event = AuditEvent(
        actor=actor, action=action, school_id=school_id, pep_id=pep_id, detail=detail
    )
    session.add(event)
    return event
