"""The review app in real Chromium (issue 10): a designated teacher logs in, opens a child's
voice, downloads the PDF within five clicks, changes the wording and approves; the DSL reads
a concern the teacher cannot; another school's teacher is refused; every page passes axe-core
(no serious or critical WCAG 2.x A/AA problems) at phone and desktop width.

`make screenshots` (PEP_VOICE_SCREENSHOTS=docs/screenshots) also takes a full-page picture of
every page at both widths: docs/screenshots/review-<page>-<phone|desktop>.png.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from bot.services.dashboard import uk_today
from tests.chromium import AXE, CHROMIUM, CHROMIUM_ARGS
from tests.review.browser import (
    CONCERN_WORDS,
    ROBIN_ANSWERS,
    Demo,
    Visitor,
    check_page,
    seed_demo,
    serve_app,
)

# One database is enough for a browser walk: SQLite, a committed file in the test's tmp.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MAX_CLICKS_TO_PDF = 5
WORDING = "Robin has moved up a reading group and is enjoying a book about dragons."
THEMES_PATH = "/review/themes"


@pytest.fixture
def demo(review: None) -> Demo:
    return seed_demo()


@pytest.fixture
def app_url(demo: Demo) -> Iterator[str]:
    yield from serve_app()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make web-test-deps` installs it")
    assert AXE.exists(), "axe-core is missing: run `make web-test-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def visitor(browser: Browser, app_url: str) -> Iterator[Visitor]:
    v = Visitor(browser, app_url)
    yield v
    v.close()


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        check=True, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return " ".join(done.stdout.split())


def test_a_teacher_downloads_changes_and_approves_a_childs_voice(
    demo: Demo, visitor: Visitor, tmp_path: Path
) -> None:
    page = visitor.page
    visitor.log_in(demo.dt_a)
    robin = page.locator("ul.children li").filter(has_text="Robin")
    visitor.click(robin.get_by_role("link", name="Child's voice"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Robin's voice")
    with page.expect_download() as download_info:
        visitor.click(page.get_by_role("link", name="PDF", exact=True))
    assert visitor.clicks <= MAX_CLICKS_TO_PDF, f"{visitor.clicks} clicks from login to the PDF"
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / "voice.pdf"
    download.save_as(pdf)
    text = pdf_text(pdf)
    for key in ("going_well", "when_older", "meeting_say_for_me"):
        words = ROBIN_ANSWERS[key][0]
        assert words is not None and words in text, f"{key!r}: {words!r} not in the PDF"
    assert "Dean" not in text and CONCERN_WORDS not in text
    assert CONCERN_WORDS not in page.content()

    # The teacher's wording: the child's words stay as they were; the change is in History.
    child_words = ROBIN_ANSWERS["going_well"][0]
    answer = page.locator("article.voice-answer").filter(
        has=page.get_by_role("heading", name="What's been going well")
    )
    answer.get_by_label("For the PEP (your wording)").fill(WORDING)
    visitor.click(answer.get_by_role("button", name="Save wording"))
    expect(page.get_by_role("status")).to_have_text(
        "Your wording is saved. The child's own words are unchanged."
    )
    expect(answer.locator("blockquote.voice-words")).to_have_text(f"\u201c{child_words}\u201d")
    expect(answer.get_by_label("For the PEP (your wording)")).to_have_value(WORDING)
    history = page.locator("section").filter(has=page.get_by_role("heading", name="History"))
    expect(history).to_contain_text(WORDING)

    visitor.click(page.get_by_role("button", name="Approve"))
    expect(page.get_by_role("status")).to_have_text("The child's voice is approved.")
    expect(page.locator(".voice-status")).to_have_text("Approved")
    expect(page.locator(".voice-facts")).to_contain_text("Approved")


def test_the_dsl_reads_a_concern_the_teacher_cannot(
    demo: Demo, browser: Browser, app_url: str
) -> None:
    dsl = Visitor(browser, app_url)
    dsl.log_in(demo.dsl_a)
    dsl.click(dsl.page.get_by_role("link", name="Safeguarding concerns"))
    expect(dsl.page.get_by_role("heading", level=1)).to_have_text("Safeguarding concerns")
    assert CONCERN_WORDS not in dsl.page.content(), "the list never shows the words"
    dsl.click(dsl.page.get_by_role("link", name=f"Concern {demo.concern}"))
    expect(dsl.page.locator("blockquote.concern-words")).to_have_text(CONCERN_WORDS)
    concern_url = dsl.page.url
    dsl.close()

    # A designated teacher sees the summary (bot.services.access.SUMMARY_ROLES), never the words.
    teacher = Visitor(browser, app_url)
    teacher.log_in(demo.dt_a)
    response = teacher.page.goto(concern_url)
    assert response is not None and response.status == 200
    expect(teacher.page.get_by_role("heading", level=1)).to_have_text(
        f"Safeguarding concern {demo.concern}"
    )
    expect(
        teacher.page.get_by_text("The school's Designated Safeguarding Lead has the details")
    ).to_be_visible()
    assert CONCERN_WORDS not in teacher.page.content()
    assert "Dean" not in teacher.page.content()
    teacher.close()


def test_another_schools_teacher_is_refused(demo: Demo, visitor: Visitor) -> None:
    page = visitor.page
    visitor.log_in(demo.dt_b)
    expect(page.locator("ul.children")).to_contain_text("Kai")
    assert "Robin" not in page.content()
    for path in (
        f"/review/peps/{demo.robin_pep}",
        f"/review/children/{demo.robin}/edit",
        f"/review/concerns/{demo.concern}",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        assert "Robin" not in page.content() and CONCERN_WORDS not in page.content()
    download = visitor.context.request.get(f"/review/peps/{demo.robin_pep}/export.pdf")
    assert download.status == 404


def _import_csv() -> bytes:
    soon, later = (uk_today() + timedelta(days=d) for d in (30, 44))
    rows = [
        "first_name,year_group,meeting_date",
        f"Sam,Y2,{soon:%d/%m/%Y}",
        "Alex,R,",
        f"Robin,Y5,{later:%d/%m/%Y}",
    ]
    return ("\n".join(rows) + "\n").encode()


def test_every_page_passes_axe_at_phone_and_desktop_width(
    demo: Demo, browser: Browser, app_url: str
) -> None:
    problems: list[str] = []
    dt = Visitor(browser, app_url)
    page = dt.page
    page.goto("/review/login")
    problems += check_page(page, "login")
    dt.log_in(demo.dt_a)
    problems += check_page(page, "dashboard")

    page.goto(f"/review/peps/{demo.robin_pep}")
    answer = page.locator("article.voice-answer").filter(
        has=page.get_by_role("heading", name="What's been going well")
    )
    answer.get_by_label("For the PEP (your wording)").fill(WORDING)
    answer.get_by_role("button", name="Save wording").click()
    page.get_by_label("Add a comment").fill("Lovely answers. Ask about Mondays at the meeting.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("status")).to_have_text("Your comment is added.")
    problems += check_page(page, "voice")

    page.goto("/review")
    page.get_by_role("button", name="New code for Maya").click()
    expect(page.locator(".invite-code")).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    problems += check_page(page, "invite")
    page.goto("/review/carer-guide")
    problems += check_page(page, "carer-guide")

    page.goto("/review/children/new")
    problems += check_page(page, "children-new")
    page.goto(f"/review/children/{demo.robin}/edit")
    problems += check_page(page, "children-edit")
    page.goto("/review/children/import")
    problems += check_page(page, "children-import")
    page.get_by_label("CSV file").set_input_files(
        {"name": "children.csv", "mimeType": "text/csv", "buffer": _import_csv()}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before importing")
    problems += check_page(page, "children-import-preview")

    page.goto(f"/review/concerns/{demo.concern}")
    problems += check_page(page, "concern-teacher")
    dt.close()

    dsl = Visitor(browser, app_url)
    dsl.log_in(demo.dsl_a)
    dsl.page.goto("/review/concerns")
    problems += check_page(dsl.page, "concerns")
    dsl.page.goto(f"/review/concerns/{demo.concern}")
    problems += check_page(dsl.page, "concern")
    dsl.close()

    # The Virtual School reads every school: the dashboard without buttons, and the themes.
    vs = Visitor(browser, app_url)
    vs.log_in(demo.virtual_school)
    problems += check_page(vs.page, "dashboard-virtual-school")
    response = vs.page.goto(THEMES_PATH)
    assert response is not None and response.status == 200, THEMES_PATH
    # Charts drawn from a third school's made-up children (enough to show numbers).
    expect(vs.page.locator("img[src*='.svg']").first).to_be_visible()
    problems += check_page(vs.page, "themes")
    vs.close()

    # The admin reads the audit log: the teacher viewing Robin's voice above is in it.
    admin = Visitor(browser, app_url)
    admin.log_in(demo.admin)
    admin.page.goto(f"/review/audit?pep={demo.robin_pep}")
    expect(admin.page.get_by_text("pep.viewed").first).to_be_visible()
    problems += check_page(admin.page, "audit")
    admin.close()

    other = Visitor(browser, app_url)
    other.log_in(demo.dt_b)
    response = other.page.goto(f"/review/peps/{demo.robin_pep}")
    assert response is not None and response.status == 404
    problems += check_page(other.page, "error-404")
    other.close()

    assert problems == [], "axe found serious problems:\n" + "\n".join(problems)
