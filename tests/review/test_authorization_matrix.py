"""The authorization matrix: every /review route, every kind of visitor, with school A's ids.

The routes are read from the app itself, so a new /review route fails
`test_every_review_route_is_classified` until it is added to ROUTES below. Each visitor then
calls every route (GET, or POST with this session's CSRF token and a small valid form) with
the ids of Oak Primary's (school A's) child, PEP, answer and safeguarding concern, and gets
the outcome in EXPECTED:

| kind of route       | nobody  | DT A | DSL A | VS   | admin | DT B | DSL B |
|---------------------|---------|------|-------|------|-------|------|-------|
| read (an A id)      | login   | 200  | 200   | 200  | 200   | 404  | 404   |
| editor page (A id)  | login   | 200  | 200   | 403  | 200   | 404  | 404   |
| change (A id)       | login   | done | done  | 403  | done  | 404  | 404   |
| acknowledge concern | login   | 403  | done  | 403  | done  | 403  | 404   |
| list (no id)        | login   | 200  | 200   | 200  | 200   | 200  | 200   |
| editor list (no id) | login   | 200  | 200   | 403  | 200   | 200  | 200   |
| create (no id)      | login   | done | done  | 403  | done  | done | done  |
| admin only          | login   | 403  | 403   | 403  | 200   | 403  | 403   |

"login" is a 303 to /review/login; "done" is past every scope and role check: the route's own
answer to its form (`Route.done`: 303 back to a page, 200 for a preview or an invite card, 400
for approving a PEP that is not sent yet).
A designated teacher of school B may never acknowledge a concern, so the role check (403)
answers before the scope check; a DSL of school B gets the 404.

And in every response body: school B's staff and nobody-logged-in never see school A's child's
name, answer or concern; school A's designated teacher and the Virtual School never see the
concern's words. Every POST without a CSRF token is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response

from bot import db
from bot.models import Pep, Role
from bot.services.answers import record_answer
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.web.app import app
from tests.review.helpers import Staff, World, client, csrf_from, logged_in, make_staff

CHILD_NAME = "Marigoldina"  # school A's child, renamed: "Robin" is the import page's example
ANSWER_WORDS = "Quillfeather marmalade sandwiches"
CONCERN_WORDS = "Thistlewick shouts at me every night"

# --- The table ------------------------------------------------------------------------------

LOGIN = "login"  # 303 to the login page
DONE = "done"  # past the checks: the route's own answer, Route.done
OK, FORBIDDEN, NOT_FOUND = 200, 403, 404
Outcome = int | str

VISITORS: Final = ("nobody", "dt_a", "dsl_a", "vs", "admin", "dt_b", "dsl_b")
OUTSIDERS: Final = frozenset({"nobody", "dt_b", "dsl_b"})  # see nothing of school A
NO_CONCERN_WORDS: Final = OUTSIDERS | {"dt_a", "vs"}

READ, EDITOR_PAGE, CHANGE, ACKNOWLEDGE = "read", "editor page", "change", "acknowledge"
LIST, EDITOR_LIST, CREATE, LOGIN_PAGES = "list", "editor list", "create", "login pages"
ADMIN_ONLY = "admin only"

# kind -> outcome for nobody, dt_a, dsl_a, vs, admin, dt_b, dsl_b (the order of VISITORS)
EXPECTED: Final[dict[str, tuple[Outcome, ...]]] = {
    READ: (LOGIN, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
    EDITOR_PAGE: (LOGIN, OK, OK, FORBIDDEN, OK, NOT_FOUND, NOT_FOUND),
    CHANGE: (LOGIN, DONE, DONE, FORBIDDEN, DONE, NOT_FOUND, NOT_FOUND),
    ACKNOWLEDGE: (LOGIN, FORBIDDEN, DONE, FORBIDDEN, DONE, FORBIDDEN, NOT_FOUND),
    LIST: (LOGIN, OK, OK, OK, OK, OK, OK),
    EDITOR_LIST: (LOGIN, OK, OK, FORBIDDEN, OK, OK, OK),
    CREATE: (LOGIN, DONE, DONE, FORBIDDEN, DONE, DONE, DONE),
    ADMIN_ONLY: (LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN),
}


@dataclass(frozen=True)
class Route:
    kind: str
    form: dict[str, str] | None = None  # a small valid form for POSTs ({ids} filled in)
    done: int = 303  # a POST's answer once it is past the checks
    upload: bool = False  # the form carries CSV as the file "file"


CSV = "first_name,year_group,meeting_date\nSam,Y4,{meeting_date}\n"


# Every /review route, by (method, path). The login pages are covered by test_routes.py:
# they are the way in (and logging out would end the session the matrix walks with).
ROUTES: Final[dict[tuple[str, str], Route]] = {
    ("GET", "/review/login"): Route(LOGIN_PAGES),
    ("POST", "/review/login"): Route(LOGIN_PAGES),
    ("POST", "/review/logout"): Route(LOGIN_PAGES),
    ("GET", "/review"): Route(LIST),
    ("GET", "/review/audit"): Route(ADMIN_ONLY),
    ("GET", "/review/carer-guide"): Route(LIST),
    ("GET", "/review/concerns"): Route(LIST),
    ("GET", "/review/themes"): Route(LIST),  # every role: their own scope's counts
    ("GET", "/review/themes/{theme}.svg"): Route(LIST),
    ("GET", "/review/children/new"): Route(EDITOR_LIST),
    ("GET", "/review/children/import"): Route(EDITOR_LIST),
    ("POST", "/review/children/new"): Route(
        CREATE,
        {
            "first_name": "Sam",
            "year_group": "Y4",
            "meeting_date": "{meeting_date}",
            "school_id": "{school_id}",
        },
    ),
    ("POST", "/review/children/import"): Route(  # the preview of the file
        CREATE, {"school_id": "{school_id}"}, done=200, upload=True
    ),
    ("POST", "/review/children/import/confirm"): Route(
        CREATE, {"content": CSV, "school_id": "{school_id}"}
    ),
    ("GET", "/review/children/{child_id}/edit"): Route(EDITOR_PAGE),
    ("POST", "/review/children/{child_id}/edit"): Route(
        CHANGE, {"first_name": CHILD_NAME, "year_group": "5"}
    ),
    ("POST", "/review/children/{child_id}/meetings"): Route(
        CHANGE, {"meeting_date": "{meeting_date}"}
    ),
    ("GET", "/review/peps/{pep_id}"): Route(READ),
    ("GET", "/review/peps/{pep_id}/export.{ext}"): Route(READ),
    ("POST", "/review/peps/{pep_id}/invite"): Route(CHANGE, {}, done=200),  # the invite card
    ("POST", "/review/peps/{pep_id}/answers/{answer_id}/wording"): Route(
        CHANGE, {"wording": "They like sandwiches."}
    ),
    ("POST", "/review/peps/{pep_id}/comments"): Route(CHANGE, {"comment": "Lovely."}),
    # The PEP is not sent yet (so an invite can be made): approving it, or sending it back,
    # is the page's own 400.
    ("POST", "/review/peps/{pep_id}/approve"): Route(CHANGE, {}, done=400),
    ("POST", "/review/peps/{pep_id}/return"): Route(
        CHANGE, {"question": "Tell me more?"}, done=400
    ),
    ("GET", "/review/concerns/{concern_id}"): Route(READ),
    ("POST", "/review/concerns/{concern_id}/acknowledge"): Route(
        ACKNOWLEDGE, {"note": "Spoke to them.", "action_taken": "Called the social worker."}
    ),
}

# --- The app's routes and school A's ids ----------------------------------------------------


def review_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if path == "/review" or path.startswith("/review/"):
            methods = getattr(context.original_route, "methods", None) or set()
            found |= {(method, path) for method in methods if method != "HEAD"}
    return found


MATRIX: Final = sorted(key for key, route in ROUTES.items() if route.kind != LOGIN_PAGES)
POSTS: Final = sorted(key for key in ROUTES if key[0] == "POST" and key[1] != "/review/login")


@pytest.fixture
def ids(world: World) -> dict[str, str]:
    """School A's ids: their child, PEP (not sent yet), an answer and a concern."""
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        pep.child.first_name = CHILD_NAME
        answer = record_answer(session, pep, "going_well", ANSWER_WORDS, "child", pep.child.phase)
        concern, _ = report_disclosure(
            session, pep, words=CONCERN_WORDS, category="emotional_abuse", source="engine",
            question_key="hard", dedupe_key=dedupe_key_for("chat-a", "m1"),
        )  # fmt: skip
        session.flush()
        return {
            "child_id": str(world.child_a), "pep_id": str(world.pep_a),
            "answer_id": str(answer.id), "concern_id": str(concern.id), "ext": "txt",
            "school_id": str(world.school_a), "theme": "feelings",
            "meeting_date": (date.today() + timedelta(days=30)).isoformat(),
        }  # fmt: skip


@pytest.fixture
def dsl_b(world: World) -> Staff:
    with db.session_scope() as session:
        return make_staff(session, "Ash Academy", Role.dsl, "b")


def visitor_client(name: str, world: World, dsl_b: Staff) -> TestClient:
    if name == "nobody":
        return client()
    staff = dsl_b if name == "dsl_b" else getattr(world, name)
    assert isinstance(staff, Staff)
    return logged_in(staff)


def call(
    c: TestClient, method: str, path: str, route: Route, ids: dict[str, str], token: str | None
) -> Response:
    response: Response
    if method == "GET":
        response = c.get(path)
        return response
    form = {key: value.format(**ids) for key, value in (route.form or {}).items()}
    if token is not None:
        form["csrf"] = token
    files = {"file": ("children.csv", CSV.format(**ids))} if route.upload else None
    response = c.post(path, data=form, files=files)
    return response


def check(outcome: Outcome, route: Route, response: Response, what: str) -> None:
    status = response.status_code
    if outcome == LOGIN:
        assert status == 303, what
        assert response.headers["location"].startswith("/review/login"), what
    elif outcome == DONE:
        assert status == route.done, what
    else:
        assert status == outcome, what


# --- The tests ------------------------------------------------------------------------------


def test_every_review_route_is_classified() -> None:
    assert review_routes() == set(ROUTES), "add the new /review route to ROUTES"


def test_every_kind_has_an_outcome_for_every_visitor() -> None:
    assert all(len(row) == len(VISITORS) for row in EXPECTED.values())
    assert {route.kind for route in ROUTES.values()} - {LOGIN_PAGES} == set(EXPECTED)


@pytest.mark.parametrize("visitor", VISITORS)
def test_the_matrix(visitor: str, world: World, ids: dict[str, str], dsl_b: Staff) -> None:
    c = visitor_client(visitor, world, dsl_b)
    token = csrf_from(c.get("/review").text) if visitor != "nobody" else "none"
    column = VISITORS.index(visitor)
    for method, template in MATRIX:
        route = ROUTES[method, template]
        path = template.format(**ids)
        response = call(c, method, path, route, ids, token)
        what = f"{visitor}: {method} {path} -> {response.status_code}"
        check(EXPECTED[route.kind][column], route, response, what)
        body = response.text
        if visitor in OUTSIDERS:
            assert CHILD_NAME not in body and ANSWER_WORDS not in body, what
        if visitor in NO_CONCERN_WORDS:
            assert CONCERN_WORDS not in body, what


def test_the_words_are_there_for_those_who_may_read_them(world: World, ids: dict[str, str]) -> None:
    """So that the absences above mean something."""
    for staff in (world.dt_a, world.vs):
        page = logged_in(staff).get(f"/review/peps/{ids['pep_id']}").text
        assert CHILD_NAME in page and ANSWER_WORDS in page
    for staff in (world.dsl_a, world.admin):
        page = logged_in(staff).get(f"/review/concerns/{ids['concern_id']}").text
        assert CONCERN_WORDS in page


@pytest.mark.parametrize(("method", "template"), POSTS)
def test_every_post_without_a_csrf_token_is_refused(
    method: str, template: str, world: World, ids: dict[str, str]
) -> None:
    c = logged_in(world.admin)
    response = call(c, method, template.format(**ids), ROUTES[method, template], ids, None)
    assert response.status_code == 403, response.text
