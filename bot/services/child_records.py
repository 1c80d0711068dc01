"""Staff adding and changing children and their PEP meetings (the review app's children pages).

Designated teachers and safeguarding leads add to their own school; an admin chooses the
school. Every read is scoped by bot.services.scope; audited with ids and counts, never names.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.models import Child, Pep, Role, School
from bot.services.child_import import ParsedFile
from bot.services.directory import add_child, add_pep, get_school, school_list
from bot.services.scope import StaffContext, audit, child_or_404, children_query, peps_query


def school_choices(session: Session, ctx: StaffContext) -> list[tuple[int, str]]:
    """The schools an admin may choose from (others add to their own school: none)."""
    return school_list(session) if ctx.role == Role.admin else []


def own_school(session: Session, ctx: StaffContext) -> School | None:
    """The school a non-admin adds to (None for an admin, who chooses)."""
    return None if ctx.role == Role.admin else get_school(session, ctx.school_id)


def school_to_add_to(session: Session, ctx: StaffContext, raw: str) -> School | None:
    """The school to add to: an admin's choice (None if not a school), else their own."""
    if ctx.role != Role.admin:
        return get_school(session, ctx.school_id)
    return get_school(session, int(raw)) if raw.strip().isdigit() else None


def add_child_as(
    session: Session, ctx: StaffContext, school: School, first_name: str, year_group: int,
    meeting: date | None,
) -> Child:  # fmt: skip
    """A new child at `school` (and their first PEP meeting); audited as `child.added`."""
    child = add_child(session, school.name, first_name, year_group, actor=ctx.actor)
    if meeting is not None:
        add_pep(session, child.id, meeting, actor=ctx.actor)
    audit(
        session, ctx, "child.added", school_id=school.id, child_id=child.id,
        meetings=0 if meeting is None else 1,
    )  # fmt: skip
    return child


def change_child(
    session: Session, ctx: StaffContext, child_id: int, first_name: str, year_group: int
) -> None:
    """A child's new first name and year group (OutOfScope, ReadOnly as bot.services.scope);
    audited as `child.details_changed` with the names of the fields that changed."""
    child = child_or_404(session, ctx, child_id, purpose="edit")
    changed = [
        key
        for key, old, new in (
            ("first_name", child.first_name, first_name),
            ("year_group", child.year_group, year_group),
        )
        if old != new
    ]
    child.first_name, child.year_group = first_name, year_group
    audit(
        session, ctx, "child.details_changed", school_id=child.school_id,
        child_id=child.id, fields=changed,
    )  # fmt: skip


def meetings_of(session: Session, ctx: StaffContext, child: Child) -> list[Pep]:
    """The child's PEP meetings, by date."""
    return list(
        session.scalars(
            peps_query(ctx).where(Pep.child_id == child.id).order_by(Pep.meeting_date, Pep.id)
        )
    )


def meeting_taken(session: Session, ctx: StaffContext, child_id: int, meeting: date) -> bool:
    """Whether the child already has a PEP meeting on that date."""
    taken = session.scalar(
        peps_query(ctx)
        .where(Pep.child_id == child_id, Pep.meeting_date == meeting)
        .with_only_columns(Pep.id)
    )
    return taken is not None


def already_here(
    session: Session, ctx: StaffContext, school: School, parsed: ParsedFile
) -> list[int]:
    """Rows with the first name and year group of a child the school already has: perhaps
    the same file twice. Not a refusal (two children may share a first name): a warning."""
    rows = session.execute(
        children_query(ctx)
        .where(Child.school_id == school.id)
        .with_only_columns(Child.first_name, Child.year_group)
    )
    known = {(r.first_name.casefold(), r.year_group) for r in rows}
    return [r.row for r in parsed.rows if (r.first_name.casefold(), r.year_group) in known]
