"""The ONE place that scopes queries: a record outside your scope is a 404, never data."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from bot import db
from bot.models import AuditEvent, Child, ConcernSource, SafeguardingConcern
from bot.review import routes as review_routes
from bot.review.auth import Staff, check_csrf
from bot.review.routes import ReviewRoute
from bot.services.scope import (
    OutOfScope,
    ReadOnly,
    StaffContext,
    child_or_404,
    children_query,
    concern_or_404,
    pep_or_404,
    peps_query,
    transaction,
)
from tests.review.helpers import World, csrf_from, logged_in


def _children(ctx: StaffContext) -> set[int]:
    with db.session_scope() as session:
        return set(session.scalars(children_query(ctx).with_only_columns(Child.id)))


def _peps(ctx: StaffContext) -> set[int]:
    with db.session_scope() as session:
        return {p.id for p in session.scalars(peps_query(ctx))}


def test_lists_are_scoped_by_school_and_role(world: World) -> None:
    both = {world.child_a, world.child_b}
    assert _children(world.dt_a.ctx) == {world.child_a}
    assert _children(world.dsl_a.ctx) == {world.child_a}
    assert _children(world.dt_b.ctx) == {world.child_b}
    assert _children(world.vs.ctx) == both
    assert _children(world.admin.ctx) == both
    assert _peps(world.dt_a.ctx) == {world.pep_a}
    assert _peps(world.vs.ctx) == {world.pep_a, world.pep_b}


def test_another_schools_child_is_not_found(world: World) -> None:
    with db.session_scope() as session:
        assert child_or_404(session, world.dt_a.ctx, world.child_a).first_name == "Robin"
        for ctx in (world.dt_a.ctx, world.dsl_a.ctx):
            with pytest.raises(OutOfScope) as refused:
                child_or_404(session, ctx, world.child_b)
            assert refused.value.status_code == 404
            with pytest.raises(OutOfScope):
                pep_or_404(session, ctx, world.pep_b)
        with pytest.raises(OutOfScope):
            child_or_404(session, world.dt_b.ctx, world.child_a)
        with pytest.raises(OutOfScope):  # an id that does not exist looks the same
            child_or_404(session, world.dt_a.ctx, 999_999)


def test_virtual_school_sees_every_school_read_only(world: World) -> None:
    with db.session_scope() as session:
        for child_id in (world.child_a, world.child_b):
            assert child_or_404(session, world.vs.ctx, child_id).id == child_id
            with pytest.raises(ReadOnly) as refused:
                child_or_404(session, world.vs.ctx, child_id, purpose="edit")
            assert refused.value.status_code == 403
        assert pep_or_404(session, world.vs.ctx, world.pep_b, purpose="export").id == world.pep_b
        with pytest.raises(ReadOnly):
            pep_or_404(session, world.vs.ctx, world.pep_b, purpose="edit")
        # Teachers and safeguarding leads may change their own school's records.
        assert child_or_404(session, world.dt_a.ctx, world.child_a, purpose="edit")
        assert pep_or_404(session, world.dsl_a.ctx, world.pep_a, purpose="edit")
        assert child_or_404(session, world.admin.ctx, world.child_a, purpose="edit")


def test_views_edits_and_exports_are_audited_without_words(world: World) -> None:
    with db.session_scope() as session:
        child_or_404(session, world.dt_a.ctx, world.child_a)
        pep_or_404(session, world.dt_a.ctx, world.pep_a, purpose="edit")
        pep_or_404(session, world.vs.ctx, world.pep_b, purpose="export")
    with db.session_scope() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["child.viewed", "pep.edited", "pep.exported"]))
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.actor, e.school_id, e.pep_id) for e in events] == [
            ("child.viewed", world.dt_a.ctx.actor, world.school_a, None),
            ("pep.edited", world.dt_a.ctx.actor, world.school_a, world.pep_a),
            ("pep.exported", world.vs.ctx.actor, world.school_b, world.pep_b),
        ]
        assert events[0].detail["child_id"] == world.child_a
        assert "Robin" not in str([e.detail for e in events])


def _concern(school_id: int | None, pep_id: int | None) -> int:
    with db.session_scope() as session:
        concern = SafeguardingConcern(
            school_id=school_id, pep_id=pep_id, category="harm", words="the words",
            source=ConcernSource.engine, dedupe_key=f"k{school_id}-{pep_id}",
        )  # fmt: skip
        session.add(concern)
        session.flush()
        return concern.id


def test_concerns_follow_bot_access(world: World) -> None:
    concern_a = _concern(world.school_a, world.pep_a)
    concern_b = _concern(world.school_b, world.pep_b)
    unlinked = _concern(None, None)
    with db.session_scope() as session:
        assert concern_or_404(session, world.dsl_a.ctx, concern_a).id == concern_a
        assert concern_or_404(session, world.dt_a.ctx, concern_a).id == concern_a  # summary
        for ctx, concern_id in [
            (world.dsl_a.ctx, concern_b),
            (world.dsl_a.ctx, unlinked),
            (world.dt_b.ctx, concern_a),
            (world.vs.ctx, concern_b),  # concerns stay with the school (bot.services.access)
        ]:
            with pytest.raises(OutOfScope):
                concern_or_404(session, ctx, concern_id)
        assert concern_or_404(session, world.admin.ctx, unlinked).id == unlinked


# Pages as later engineers will write them, on a test app with the review routes.
probe_router = APIRouter(prefix="/review/probe", route_class=ReviewRoute)


@probe_router.get("/child/{child_id}")
def child_page(request: Request, ctx: Staff, child_id: int) -> PlainTextResponse:
    with transaction(ctx) as session:
        return PlainTextResponse(child_or_404(session, ctx, child_id).first_name)


@probe_router.post("/child/{child_id}/edit", dependencies=[Depends(check_csrf)])
def child_edit(ctx: Staff, child_id: int) -> PlainTextResponse:
    with transaction(ctx) as session:
        child = child_or_404(session, ctx, child_id, purpose="edit")
        return PlainTextResponse(f"edited {child.first_name}")


probe = FastAPI()
probe.include_router(review_routes.router)
probe.include_router(probe_router)


def test_a_wrong_id_is_a_404_over_http_and_the_probe_is_audited(world: World) -> None:
    dt_a = logged_in(world.dt_a, application=probe)
    assert dt_a.get(f"/review/probe/child/{world.child_a}").text == "Robin"
    refused = dt_a.get(f"/review/probe/child/{world.child_b}")
    assert refused.status_code == 404 and "Kai" not in refused.text
    assert "Page not found" in refused.text and "Log out" in refused.text  # an HTML page
    assert dt_a.get("/review/probe/child/424242").text == refused.text
    vs = logged_in(world.vs, application=probe)
    assert vs.get(f"/review/probe/child/{world.child_b}").text == "Kai"
    dsl_a = logged_in(world.dsl_a, application=probe)
    assert dsl_a.get(f"/review/probe/child/{world.child_b}").status_code == 404
    with db.session_scope() as session:
        denied = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "child.not_found").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor, e.detail["child_id"]) for e in denied] == [
            (world.dt_a.ctx.actor, world.child_b),
            (world.dt_a.ctx.actor, 424242),
            (world.dsl_a.ctx.actor, world.child_b),
        ]
        viewed = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.viewed"))
        assert {(e.actor, e.detail["child_id"]) for e in viewed} == {
            (world.dt_a.ctx.actor, world.child_a),
            (world.vs.ctx.actor, world.child_b),
        }


def test_edits_need_an_editing_role_and_the_forms_token(world: World) -> None:
    path = f"/review/probe/child/{world.child_a}/edit"
    dt_a = logged_in(world.dt_a, application=probe)
    token = csrf_from(dt_a.get("/review").text)
    assert dt_a.post(path, data={"csrf": token}).text == "edited Robin"
    assert dt_a.post(path).status_code == 403  # no token
    assert dt_a.post(path.replace(str(world.child_a), str(world.child_b)), data={"csrf": token}
                     ).status_code == 404  # fmt: skip
    vs = logged_in(world.vs, application=probe)
    refused = vs.post(path, data={"csrf": csrf_from(vs.get("/review").text)})
    assert refused.status_code == 403 and "but not change them" in refused.text
    assert "Robin" not in refused.text
    anonymous = logged_in(world.dt_a, application=probe)
    anonymous.cookies.clear()
    assert anonymous.post(path, data={"csrf": token}).status_code == 303  # to the login page
