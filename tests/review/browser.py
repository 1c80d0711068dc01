"""The review app in a real browser: the app served by uvicorn, Debian's Chromium, axe-core.

No Rasa engine: the review pages only read and write the store. The server runs in a thread
of the test process, so it uses the test's settings (`app_settings`: the committed SQLite
file, the fixed key) and the demo school that `seed_demo` writes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from PIL import Image
from playwright.sync_api import Browser, Locator, Page
from sqlalchemy.orm import Session

from bot import db
from bot.models import AnsweredBy, Pep, Role
from bot.services.answers import record_answer, submit_voice
from bot.services.dashboard import uk_today
from bot.services.demo_themes import seed_theme_demo
from bot.services.directory import add_child, add_pep, add_school, add_staff
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.services.scope import StaffContext
from bot.web.app import app
from tests.chromium import AXE, PHONE, WCAG_TAGS
from tests.integration.stack import free_port
from tests.review.helpers import PASSWORD, Staff, set_test_password

DESKTOP = {"width": 1280, "height": 900}
SERIOUS = {"serious", "critical"}
#: `make screenshots` sets it to docs/screenshots; a plain test run writes no pictures.
SCREENSHOTS_ENV = "PEP_VOICE_SCREENSHOTS"

# Robin's answers (Year 5), as a child types them: the misspellings are theirs to keep.
ROBIN_ANSWERS: dict[str, tuple[str | None, AnsweredBy]] = {
    "answered_by": ("child", AnsweredBy.child),
    "feeling_now": ("pretty good most days. mondays are harder", AnsweredBy.child),
    "going_well": ("I got moved up in reeding and my new book is about dragons", AnsweredBy.child),
    "proud": ("I ran a hole lap of the field at sports day without stopping", AnsweredBy.child),
    "hard": (None, AnsweredBy.child),  # skipped
    "lessons_enjoy": ("art and PE. science when we do experiments", AnsweredBy.child),
    "lessons_hard": ("times tables, I get muddled with the 7s and 8s", AnsweredBy.child),
    "friends": ("me and Jay play football at lunch", AnsweredBy.child),
    "get_better_at": ("my handwriting so its neater", AnsweredBy.child),
    "when_older": ("a vet becuase I love animals", AnsweredBy.child),
    "helps_learn": ("when Miss Patel sits with me and I can use the number line", AnsweredBy.child),
    "help_wanted": ("Robin would like more help with spellings", AnsweredBy.carer),
    "activities": ("football club on tuesdays and swimming on saturdays", AnsweredBy.with_carer),
    "meeting_attend": ("yes for a bit at the start", AnsweredBy.child),
    "meeting_who": ("Sue and Miss Patel", AnsweredBy.child),
    "meeting_say_for_me": ("that I want to stay in football club", AnsweredBy.child),
}
# Long enough to push a phone's page sideways if an email address cannot wrap.
DT_A_EMAIL = "designated.teacher@oakprimary.example.org"
CONCERN_WORDS = "Dean from next door hits me and says not to tell"


@dataclass(frozen=True)
class Demo:
    """Oak Primary (A): Robin (sent), Maya (not started, meeting soon), Leo (in progress) and
    a concern from Robin's chat; Ash Academy (B): Kai. Staff: A's DT and DSL, B's DT, and a
    Virtual School officer (every school, read-only), and an admin."""

    robin: int
    robin_pep: int
    maya_pep: int
    kai_pep: int
    concern: int
    dt_a: Staff
    dsl_a: Staff
    dt_b: Staff
    virtual_school: Staff
    admin: Staff


def _staff(session: Session, school: str, role: Role, email: str) -> Staff:
    user = add_staff(session, school, email, role)
    session.flush()
    set_test_password(session, user)
    return Staff(email, PASSWORD, StaffContext(user.id, user.email, user.role, user.school_id))


def seed_demo() -> Demo:
    today = uk_today()
    with db.session_scope() as session:
        oak = add_school(session, "Oak Primary")
        ash = add_school(session, "Ash Academy")
        peps: dict[str, Pep] = {}
        for school, name, year, days in (
            (oak, "Robin", 5, 12), (oak, "Maya", 3, 5), (oak, "Leo", 6, 26), (ash, "Kai", 9, 9),
        ):  # fmt: skip
            child = add_child(session, school.name, name, year)
            peps[name] = add_pep(session, child.id, today + timedelta(days=days))
        session.flush()
        robin = peps["Robin"]
        for key, (text, by) in ROBIN_ANSWERS.items():
            record_answer(
                session, robin, key, text, by, robin.child.phase, skipped=text is None
            )  # fmt: skip
        leo = peps["Leo"]
        record_answer(session, leo, "answered_by", "child", AnsweredBy.child, leo.child.phase)
        record_answer(
            session, leo, "feeling_now", "its ok. I like my new teacher", AnsweredBy.child,
            leo.child.phase,
        )  # fmt: skip
        submit_voice(session, robin)
        # The Virtual School's themes: made-up children at a school of their own.
        seed_theme_demo(session, add_school(session, "Elm Federation"))
        concern, _ = report_disclosure(
            session, robin, words=CONCERN_WORDS, category="physical_abuse", source="engine",
            question_key="friends", dedupe_key=dedupe_key_for("demo-chat", "m1"),
            conversation_hash="hash-demo-chat", now=datetime.now(UTC) - timedelta(hours=2),
        )  # fmt: skip
        session.flush()
        return Demo(
            robin=robin.child_id, robin_pep=robin.id, maya_pep=peps["Maya"].id,
            kai_pep=peps["Kai"].id, concern=concern.id,
            dt_a=_staff(session, oak.name, Role.designated_teacher, DT_A_EMAIL),
            dsl_a=_staff(session, oak.name, Role.dsl, "safeguarding.lead@oakprimary.example.org"),
            dt_b=_staff(session, ash.name, Role.designated_teacher, "m.hughes@ash.example.org"),
            virtual_school=_staff(
                session, oak.name, Role.virtual_school, "l.brown@virtualschool.example.gov.uk"
            ),
            admin=_staff(session, oak.name, Role.admin, "it.admin@council.example.gov.uk"),
        )  # fmt: skip


def serve_app() -> Iterator[str]:
    """bot.web.app on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="review-app", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    assert httpx.get(f"{url}/review/login", timeout=5).status_code == 200
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Visitor:
    """One member of staff in their own browser context; counts the clicks they make."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        # bypass_csp: lets add_script_tag inject axe-core past the pages' CSP.
        self.context = browser.new_context(
            viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London",
            reduced_motion="reduce", bypass_csp=True, accept_downloads=True,
            base_url=base_url,
        )  # fmt: skip
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.clicks = 0

    def click(self, target: Locator) -> None:
        self.clicks += 1
        target.click()

    def log_in(self, staff: Staff) -> None:
        self.page.goto("/review/login")
        self.page.get_by_label("Email address").fill(staff.email)
        self.page.get_by_label("Password").fill(staff.password)
        self.click(self.page.get_by_role("button", name="Log in"))
        self.page.wait_for_url("**/review")

    def close(self) -> None:
        self.context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page as it is."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (WCAG 1.4.10: reflow). Tables
    scroll inside their own box, so only the page itself counts."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def screenshot_dir() -> Path | None:
    folder = os.environ.get(SCREENSHOTS_ENV)
    return Path(folder) if folder else None


def shoot(page: Page, path: Path) -> None:
    """A full-page PNG in 256 colours: text pages stay sharp and a fraction of the size."""
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as picture:
        small = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def check_page(page: Page, name: str) -> list[str]:
    """axe and reflow at phone and desktop width, and, under `make screenshots`, a full-page
    picture at each: docs/screenshots/review-<name>-<phone|desktop>.png. Returns the problems
    found."""
    problems: list[str] = []
    folder = screenshot_dir()
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        problems += [f"{name} ({width}): {p}" for p in serious_violations(page)]
        if (extra := sideways_overflow(page)) > 0:
            problems.append(f"{name} ({width}): the page scrolls sideways by {extra} px")
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            shoot(page, folder / f"review-{name}-{width}.png")
    page.set_viewport_size(DESKTOP)
    return problems
