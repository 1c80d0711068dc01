"""The designated teacher's dashboard and the child's invite card (issue 10).

- `dashboard_for`: the upcoming PEPs a staff member may see, soonest meeting first, with the
  child's voice status (not started, in progress, submitted, reviewed), who gave the latest
  answer, and whether a reminder is due (the meeting is within REMINDER_DAYS days and the
  child has not started).
- `invite_card`: a new invite for a PEP (older ones revoked, bot.services.invites) as the
  card staff print for the child: the code, the web link, its QR code (inline SVG built by
  segno) and the Telegram link when Telegram is on. The code and links exist only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import segno
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.models import Answer, AnsweredBy, Child, Pep, PepStatus, School
from bot.services.invites import NewInvite, new_invite
from bot.services.scope import StaffContext, audit, children_query, peps_query
from bot.services.voice_document import UK, long_date, uk_date, year_group_name
from bot.settings import get_settings

#: A reminder is due when the meeting is this many days away or fewer and nothing is started.
REMINDER_DAYS = 7

STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "reviewed": "Reviewed",
    # Sent back with a question (bot.services.review.return_to_child): open to the child again.
    "returned": "Sent back with a question",
    # The child answered it (or skipped it) and sent their voice again.
    "resent": "Sent again after your question",
}

#: How the QR code is made: the same options give the same SVG for the same link.
QR_ERROR = "m"
QR_SVG_OPTIONS: dict[str, object] = {
    "scale": 4,
    "border": 4,
    "svgclass": "qr-code",
    "lineclass": None,
    "omitsize": True,
    "title": "QR code for the web chat link",
}


def uk_today() -> date:
    return datetime.now(UK).date()


def who_answered(first_name: str, answered_by: AnsweredBy | None) -> str:
    """Who gave an answer, in plain words for staff."""
    if answered_by is None:
        return "No answers yet"
    if answered_by == AnsweredBy.child:
        return f"{first_name}, on their own"
    if answered_by == AnsweredBy.with_carer:
        return f"{first_name}, with a carer's help"
    return f"A carer, for {first_name}"


def when(meeting: date, today: date) -> str:
    days = (meeting - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


@dataclass(frozen=True)
class DashboardRow:
    pep_id: int
    first_name: str
    year: str
    school: str
    meeting: str  # "15 January 2030"
    meeting_when: str  # "in 3 days"
    status: str  # a STATUS_LABELS key
    status_label: str
    who_answered: str
    reminder_due: bool
    can_invite: bool  # not yet submitted: a new invite may be made


def _status(pep: Pep) -> str:
    if pep.reviewed_at is not None:
        return "reviewed"
    if pep.returned_at is not None:
        return "resent" if pep.status == PepStatus.submitted else "returned"
    return PepStatus(pep.status).value


def dashboard_for(
    session: Session, ctx: StaffContext, today: date | None = None
) -> list[DashboardRow]:
    """The upcoming PEPs (meeting today or later) `ctx` may see, soonest first; audited as
    `pep.listed` (a count, no names)."""
    today = today or uk_today()
    peps = session.scalars(
        peps_query(ctx)
        .where(Pep.meeting_date >= today)
        .options(joinedload(Pep.child).joinedload(Child.school))
        .order_by(Pep.meeting_date, Child.first_name, Pep.id)
    ).all()
    latest: dict[int, AnsweredBy] = {}
    if peps:
        answers = session.execute(
            select(Answer.pep_id, Answer.answered_by)
            .where(Answer.pep_id.in_([p.id for p in peps]))
            .order_by(Answer.created_at, Answer.id)
        ).all()
        for pep_id, answered_by in answers:
            latest[pep_id] = answered_by  # the last one wins
    rows = []
    for pep in peps:
        status = _status(pep)
        days = (pep.meeting_date - today).days
        rows.append(
            DashboardRow(
                pep_id=pep.id,
                first_name=pep.child.first_name,
                year=year_group_name(pep.child.year_group),
                school=pep.child.school.name,
                meeting=long_date(pep.meeting_date),
                meeting_when=when(pep.meeting_date, today),
                status=status,
                status_label=STATUS_LABELS[status],
                who_answered=who_answered(pep.child.first_name, latest.get(pep.id)),
                reminder_due=status == "not_started" and days <= REMINDER_DAYS,
                # Sent back: in progress again, so a new code may be made for the child.
                can_invite=pep.status != PepStatus.submitted,
            )
        )
    audit(
        session, ctx, "pep.listed", school_id=None if ctx.all_schools else ctx.school_id,
        peps=len(rows), view="dashboard",
    )  # fmt: skip
    return rows


@dataclass(frozen=True)
class ChildRow:
    id: int
    first_name: str
    year_group: int
    school: str
    latest_pep_id: int | None  # by meeting date: the link to the child's voice page


def children_seen_by(session: Session, ctx: StaffContext) -> list[ChildRow]:
    """Every child `ctx` may see, by school and first name, with their latest PEP; audited as
    `child.listed` (a count, no names)."""
    rows = session.execute(
        children_query(ctx)
        .join(School, School.id == Child.school_id)
        .with_only_columns(Child.id, Child.first_name, Child.year_group, School.name)
        .order_by(School.name, Child.first_name, Child.id)
    ).all()
    # Ordered by meeting date, so each child's last one wins.
    latest_pep = dict(
        session.execute(
            peps_query(ctx)
            .with_only_columns(Pep.child_id, Pep.id)
            .order_by(Pep.meeting_date, Pep.id)
        ).all()
    )
    audit(
        session, ctx, "child.listed",
        school_id=None if ctx.all_schools else ctx.school_id, children=len(rows),
    )  # fmt: skip
    return [ChildRow(r.id, r.first_name, r.year_group, r.name, latest_pep.get(r.id)) for r in rows]


# --- The invite card ------------------------------------------------------------------------


def web_link(link_token: str) -> str:
    """The web chat link for an invite (as `bot.cli.web_link`)."""
    return f"{get_settings().web.base_url.rstrip('/')}/chat/link/{link_token}"


def qr_svg(link: str) -> Markup:
    """The QR code of `link` as SVG markup to put inline in a page (segno writes only its
    own elements and numbers; the link is not in the markup)."""
    return Markup(segno.make(link, error=QR_ERROR).svg_inline(**QR_SVG_OPTIONS))


@dataclass(frozen=True)
class InviteCard:
    first_name: str
    code: str
    web_link: str
    telegram_link: str | None
    qr: Markup
    expires: str  # "15 January 2030"


def invite_card(session: Session, pep: Pep, *, actor: str) -> InviteCard:
    """A new invite for `pep` (older ones stop working), as the card to print. Raises
    ServiceError if the PEP's child's voice has been submitted."""
    from bot.telegram.messages import deep_link

    invite: NewInvite = new_invite(session, pep, actor=actor)
    link = web_link(invite.link_token)
    return InviteCard(
        first_name=pep.child.first_name,
        code=invite.code,
        web_link=link,
        telegram_link=deep_link(invite.link_token),
        qr=qr_svg(link),
        expires=long_date(uk_date(invite.expires_at)),
    )
