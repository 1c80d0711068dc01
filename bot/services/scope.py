"""Who may see which records in the review app: the ONE place queries are scoped.

Every page and service reads children, PEPs and concerns for staff only through this module:

| role | children and PEPs | may change them | concerns (bot.services.access) |
|---|---|---|---|
| designated_teacher | their school's | yes | their school's summaries |
| dsl | their school's | yes | their school's, words included |
| virtual_school | every school's | no (read-only: 403) | their school's summaries |
| admin | every school's | yes | every concern |

A record outside the scope is indistinguishable from one that does not exist: `OutOfScope`
(a 404 page: bot.review.routes.ReviewRoute), and the refusal is audited (`<kind>.not_found`)
by `transaction`. Safeguarding concerns follow bot.services.access's rules
(`visible_concerns`), which also guard the words.

Every view, edit and export of a child's record is audited here with ids only (who, what,
when, never the words): `child_or_404(..., purpose="view")` writes `child.viewed`, and so on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.db import get_sessionmaker
from bot.models import Child, Pep, Role, SafeguardingConcern
from bot.services import ServiceError, record_event
from bot.services.access import SUMMARY_ROLES, Viewer, visible_concerns

#: Roles that see every school's children and PEPs.
ALL_SCHOOLS_ROLES = frozenset({Role.admin, Role.virtual_school})
#: Roles that may change a record (the Virtual School is read-only).
EDIT_ROLES = frozenset({Role.admin, Role.designated_teacher, Role.dsl})

ROLE_LABELS = {
    Role.designated_teacher: "Designated teacher",
    Role.dsl: "Designated safeguarding lead",
    Role.virtual_school: "Virtual School (read-only)",
    Role.admin: "Administrator",
}

Purpose = Literal["view", "edit", "export"]
_PAST = {"view": "viewed", "edit": "edited", "export": "exported"}
READ_ONLY_MESSAGE = "Your account can read these records but not change them."


@dataclass(frozen=True)
class StaffContext:
    """The logged-in staff member, as every scoped query needs them."""

    staff_id: int
    email: str
    role: Role
    school_id: int

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    @property
    def all_schools(self) -> bool:
        return self.role in ALL_SCHOOLS_ROLES

    @property
    def read_only(self) -> bool:
        return self.role not in EDIT_ROLES

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def sees_concerns(self) -> bool:
        """May know that safeguarding concerns exist (bot.services.access: their summaries)."""
        return self.role in SUMMARY_ROLES

    @property
    def viewer(self) -> Viewer:
        """The same person for bot.services.access (safeguarding concerns)."""
        return Viewer(self.staff_id, self.email, self.role, self.school_id)


class OutOfScope(ServiceError):
    """A record that does not exist or that this staff member may not see: a 404."""

    status_code = 404

    def __init__(self, kind: str, record_id: int) -> None:
        super().__init__("Not found")
        self.kind = kind
        self.record_id = record_id


class ReadOnly(ServiceError):
    """A change asked for by a read-only role: a 403."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__(READ_ONLY_MESSAGE)


# --- Queries --------------------------------------------------------------------------------


def children_query(ctx: StaffContext) -> Select[Child]:
    """The children `ctx` may see."""
    query = select(Child)
    if not ctx.all_schools:
        query = query.where(Child.school_id == ctx.school_id)
    return query


def peps_query(ctx: StaffContext) -> Select[Pep]:
    """The PEPs `ctx` may see (of the children in `children_query`)."""
    query = select(Pep).join(Pep.child)
    if not ctx.all_schools:
        query = query.where(Child.school_id == ctx.school_id)
    return query


def concerns_query(ctx: StaffContext) -> Select[SafeguardingConcern]:
    """The safeguarding concerns `ctx` may know exist (bot.services.access's rule). The words are
    deferred: read them only with bot.services.access.concern_words, which checks and audits."""
    return visible_concerns(ctx.viewer)


# --- One record, or 404 ---------------------------------------------------------------------


def _audit(
    session: Session, ctx: StaffContext, action: str, *, school_id: int | None,
    pep_id: int | None = None, **detail: Any,
) -> None:  # fmt: skip
    record_event(
        session, ctx.actor, action, school_id=school_id, pep_id=pep_id, staff_id=ctx.staff_id,
        role=ctx.role.value, **detail,
    )  # fmt: skip


def _check_purpose(ctx: StaffContext, purpose: Purpose) -> None:
    if purpose == "edit" and ctx.read_only:
        raise ReadOnly()


def child_or_404(
    session: Session, ctx: StaffContext, child_id: int, *, purpose: Purpose = "view"
) -> Child:
    """The child, if `ctx` may see them (else 404); audited as child.viewed/edited/exported.
    An edit by a read-only role is refused with 403 after the scope check."""
    child = session.scalar(children_query(ctx).where(Child.id == child_id))
    if child is None:
        raise OutOfScope("child", child_id)
    _check_purpose(ctx, purpose)
    _audit(session, ctx, f"child.{_PAST[purpose]}", school_id=child.school_id, child_id=child.id)
    return child


def pep_or_404(
    session: Session, ctx: StaffContext, pep_id: int, *, purpose: Purpose = "view"
) -> Pep:
    """The PEP, if `ctx` may see it (else 404); audited as pep.viewed/edited/exported."""
    pep = session.scalar(peps_query(ctx).where(Pep.id == pep_id))
    if pep is None:
        raise OutOfScope("pep", pep_id)
    _check_purpose(ctx, purpose)
    _audit(
        session, ctx, f"pep.{_PAST[purpose]}", school_id=pep.child.school_id, pep_id=pep.id,
        child_id=pep.child_id,
    )  # fmt: skip
    return pep


def pep_or_404_unaudited(session: Session, ctx: StaffContext, pep_id: int) -> Pep:
    """The PEP, if `ctx` may see it (else 404), with no audit of its own: for a caller that
    records what it did with the PEP itself (a download: `pep.exported`)."""
    pep = session.scalar(peps_query(ctx).where(Pep.id == pep_id))
    if pep is None:
        raise OutOfScope("pep", pep_id)
    return pep


def concern_or_404(session: Session, ctx: StaffContext, concern_id: int) -> SafeguardingConcern:
    """A concern's summary row (not its words), if `ctx` may know it exists (else 404);
    audited as concern.summary_viewed. The words: bot.services.access.concern_words."""
    concern = session.scalar(concerns_query(ctx).where(SafeguardingConcern.id == concern_id))
    if concern is None:
        raise OutOfScope("concern", concern_id)
    _audit(
        session, ctx, "concern.summary_viewed", school_id=concern.school_id,
        pep_id=concern.pep_id, concern_id=concern.id,
    )  # fmt: skip
    return concern


def audit(
    session: Session, ctx: StaffContext, action: str, *, school_id: int | None = None,
    pep_id: int | None = None, **detail: Any,
) -> None:  # fmt: skip
    """Record something else `ctx` did or saw (a list, a search): ids and counts only."""
    _audit(session, ctx, action, school_id=school_id, pep_id=pep_id, **detail)


@contextmanager
def transaction(ctx: StaffContext) -> Iterator[Session]:
    """One transaction for a review request: committed if the block succeeds, rolled back if
    it raises. A lookup outside `ctx`'s scope (OutOfScope) rolls back the request's work,
    records only the refusal (`<kind>.not_found`, with the id asked for) and stays a 404."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except OutOfScope as refusal:
        session.rollback()
        _audit(
            session, ctx, f"{refusal.kind}.not_found",
            school_id=None if ctx.all_schools else ctx.school_id,
            **{f"{refusal.kind}_id": refusal.record_id},
        )  # fmt: skip
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
