"""Anonymous themes across children: the page and its charts.

- GET /review/themes: for each theme (bot.services.themes) a chart and a table of the same
  suppressed figures; a form to choose the period (and, for the Virtual School and admins,
  one school).
- GET /review/themes/{theme}.svg: the chart (bot.services.themes_charts), image/svg+xml.

Every role may look: the Virtual School and admins across every school (or one school), a
designated teacher or DSL their own school's children only (the scoped PEP query does that;
asking for another school is a 404). No child's name, id or words are on the page or in the
charts: only counts of children, with the small ones hidden. Audited `themes.viewed` (what
was shown: the page or a chart, the period, the school asked for; never a count).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.review.auth import Staff
from bot.review.routes import ReviewRoute, render
from bot.services.dashboard import uk_today
from bot.services.directory import school_list, school_name
from bot.services.scope import StaffContext, audit, transaction
from bot.services.themes import (
    HIDDEN,
    PERIOD_NAMES,
    THEME_NAMES,
    UNDER_FIVE,
    Period,
    Theme,
    period_label,
    school_asked,
    themes_seen_by,
)
from bot.services.themes_charts import chart_svg

router = APIRouter(prefix="/review", route_class=ReviewRoute)

PeriodParam = Annotated[Period, Query()]
SchoolParam = Annotated[str | None, Query()]  # "" from the form: every school

#: What each chart shows, for its image's alt text (the table below it has the figures).
CHART_ALT = {
    "support": "Bar chart of how many children asked for each kind of help.",
    "feelings": "Bar charts, one for each phase, of how many children feel each way about school.",
    "attendance": "Bar chart of how many children would like to come to their PEP meeting.",
}


def _school_filter(session: Session, ctx: StaffContext, asked: str | None) -> int | None:
    """The school asked for, if `ctx` may see it (else 404). Staff of one school always see
    their own school only, so asking for it changes nothing."""
    if not asked:
        return None
    if not asked.isdigit() or len(asked) > 9:
        raise HTTPException(404, "Not found")
    return school_asked(session, ctx, int(asked))


def _themes(
    session: Session, ctx: StaffContext, period: Period, school: int | None
) -> dict[str, Theme]:
    return themes_seen_by(session, ctx, period=period, today=uk_today(), school_id=school)


def _audit_view(
    session: Session, ctx: StaffContext, view: str, period: Period, school: int | None
) -> None:
    audit(
        session, ctx, "themes.viewed",
        school_id=school if school is not None else (None if ctx.all_schools else ctx.school_id),
        view=view, period=period.value, school_asked=school,
    )  # fmt: skip


def _query_string(period: Period, school: int | None) -> str:
    return f"?period={period.value}" + (f"&school={school}" if school is not None else "")


@router.get("/themes", response_class=HTMLResponse)
def themes_page(
    request: Request, ctx: Staff, period: PeriodParam = Period.last_12_months,
    school: SchoolParam = None,
) -> Response:  # fmt: skip
    with transaction(ctx) as session:
        school_id = _school_filter(session, ctx, school)
        themes = _themes(session, ctx, period, school_id)
        schools = school_list(session) if ctx.all_schools else []
        own_school = school_name(session, ctx.school_id)
        _audit_view(session, ctx, "page", period, school_id)
    if not ctx.all_schools:
        scope_name = own_school or ""
    elif school_id is None:
        scope_name = "All schools"
    else:
        scope_name = next((name for id_, name in schools if id_ == school_id), "")
    return render(
        request, "review/themes.html", ctx, themes=[themes[name] for name in THEME_NAMES],
        chart_alt=CHART_ALT, query=_query_string(period, school_id), periods=list(Period),
        period=period, period_label=period_label(period, uk_today()), period_names=PERIOD_NAMES,
        schools=schools, school=school_id, scope_name=scope_name, under_five=UNDER_FIVE,
        hidden=HIDDEN,
    )  # fmt: skip


@router.get("/themes/{theme}.svg")
def theme_chart(
    ctx: Staff, theme: str, period: PeriodParam = Period.last_12_months,
    school: SchoolParam = None,
) -> Response:  # fmt: skip
    if theme not in THEME_NAMES:
        raise HTTPException(404, "Not found")
    with transaction(ctx) as session:
        school_id = _school_filter(session, ctx, school)
        figures = _themes(session, ctx, period, school_id)[theme]
        _audit_view(session, ctx, theme, period, school_id)
    return Response(chart_svg(figures), media_type="image/svg+xml")
