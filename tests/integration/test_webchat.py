"""The web chat in a real browser (Debian's Chromium via Playwright) against the real stack.

Driven by what the page shows: a turn that offers buttons is answered by tapping one, any
other question by typing, so the test keeps working as the conversation grows. axe-core
(installed from npm into var/node on first use) checks the page against WCAG 2.x A/AA.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from bot.child_texts import NOT_SAVED_MESSAGE
from tests.chromium import AXE, CHROMIUM, CHROMIUM_ARGS, PHONE, WCAG_TAGS
from tests.integration.stack import REPO, Stack

pytestmark = pytest.mark.engine

# `make screenshots` writes them into docs/; a plain test run keeps the work tree clean.
SCREENSHOTS = Path(os.environ.get("PEP_VOICE_SCREENSHOTS", REPO / "var" / "screenshots"))
TABLET = {"width": 820, "height": 1180}
# Typed answers, in order; they go into the store verbatim.
TYPED = [
    'Art club 🎨 and "maths"!',
    "Playing football with my friends at break",
    "Reading with my teacher every morning",
    "Drawing comics and swimming on Saturdays",
    "Learning my times tables",
]
MAX_TURNS = 40


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry, into git-ignored var/node (`make web-test-deps`)."""
    if not AXE.exists():
        subprocess.run(
            ["npm", "install", "--prefix", str(AXE.parents[2]), "--no-audit", "--no-fund",
             "--no-save", "axe-core@4"],
            check=True, cwd=REPO, capture_output=True, timeout=300,
        )  # fmt: skip
    return AXE


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            locale="en-GB",
            reduced_motion="reduce",
            bypass_csp=True,  # lets add_script_tag inject axe past the page's CSP
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


def check_accessibility(page: Page, axe: Path, when: str) -> None:
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(axe))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
    ]
    assert problems == [], f"axe found problems {when}:\n" + "\n".join(problems)


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def bot_texts(page: Page) -> list[str]:
    return page.locator(".msg-bot p:not(.who)").all_inner_texts()


def all_texts(page: Page) -> list[str]:
    return page.locator(".msg p:not(.who)").all_inner_texts()


def wait_idle(page: Page) -> None:
    expect(page.locator("#send")).to_be_enabled()


def wait_for_reply(page: Page, messages_before: int) -> None:
    expect(page.locator(".msg")).not_to_have_count(messages_before)
    wait_idle(page)


def conversation_is_waiting(page: Page) -> bool:
    """Until the bot says the answers were sent, its latest turn is waiting for the child."""
    texts = bot_texts(page)
    return not (texts and "sent your answers" in texts[-1])


def test_a_child_goes_through_the_chat_in_the_browser(
    stack: Stack, app_url: str, browser: BrowserContext, axe_script: Path
) -> None:
    pep_id, code = stack.new_pep(year_group=5)
    page = browser.new_page()

    page.goto(f"{app_url}/chat")
    expect(page.get_by_label("Your code")).to_be_visible()
    check_accessibility(page, axe_script, "on the start page")
    shoot(page, "start-phone.png")

    # The link only shows a Start button (a link scanner uses nothing up); pressing it starts.
    page.goto(f"{app_url}/chat?code={code}")
    check_accessibility(page, axe_script, "on a link's start page")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"{app_url}/chat")
    assert page.url == f"{app_url}/chat", "the invite code must leave the address bar"
    expect(page.locator(".msg-bot").first).to_be_visible()
    wait_idle(page)
    assert any("computer program" in t for t in bot_texts(page))
    expect(page.locator("#progress-label")).to_have_text("Part 1 of 5: Getting started")
    check_accessibility(page, axe_script, "after the first bot message")
    shoot(page, "chat-phone-start.png")

    typed: list[tuple[str, str]] = []  # (the question, what was typed)
    tapped: list[str] = []
    refreshed = went_offline = False
    for _turn in range(MAX_TURNS):
        if not conversation_is_waiting(page):
            break
        before = page.locator(".msg").count()
        choices = page.locator("#choices button")
        if choices.count():
            tapped.append(choices.first.inner_text())
            choices.first.click()
            wait_for_reply(page, before)
            assert all_texts(page)[before] == tapped[-1], "a tap shows its title as my message"
            continue
        answer = TYPED[len(typed) % len(TYPED)]
        question = bot_texts(page)[-1]
        page.get_by_label("Type your answer").fill(answer)
        if not went_offline:
            # A dropped connection: nothing is lost, the child is told, and can try again.
            went_offline = True
            browser.set_offline(True)
            page.get_by_role("button", name="Send").click()
            expect(page.locator("#problem")).to_contain_text(NOT_SAVED_MESSAGE)
            expect(page.get_by_label("Type your answer")).to_have_value(answer)
            assert page.locator(".msg").count() == before
            shoot(page, "chat-phone-not-sent.png")
            browser.set_offline(False)
            page.get_by_role("button", name="Try again").click()
        else:
            page.get_by_role("button", name="Send").click()
        wait_for_reply(page, before)
        typed.append((question, answer))
        assert all_texts(page)[before] == answer
        expect(page.get_by_label("Type your answer")).to_have_value("")
        expect(page.locator("#problem")).to_be_hidden()
        if not refreshed:
            # A refresh in the middle restores the conversation from the server.
            refreshed = True
            shown = all_texts(page)
            page.reload()
            expect(page.locator(".msg")).to_have_count(len(shown))
            assert all_texts(page) == shown
            wait_idle(page)
    else:
        pytest.fail(f"the conversation did not end within {MAX_TURNS} turns")

    assert typed, "the conversation asked nothing to type"
    assert refreshed and went_offline
    check_accessibility(page, axe_script, "at the end")
    shoot(page, "chat-phone-end.png")
    page.set_viewport_size(TABLET)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    shoot(page, "chat-tablet-end.png")

    saved = stack.answers(pep_id)
    saved_texts = [a.text for a in saved.values() if a.text is not None]
    for question, answer in typed:
        assert answer in saved_texts, (
            f"{answer!r} (to {question!r}) not saved verbatim: {saved_texts}"
        )
        if "going well" in question:
            assert saved["going_well"].text == answer
    assert "Is this right?" in bot_texts(page), "the child saw the check step"
    assert "Yes, send it" in tapped
    assert stack.pep_status(pep_id) == "submitted"

    # Finish: the chat ends on this device and nothing of it is left for the next person.
    finish = page.get_by_role("button", name="Finish")
    expect(finish).to_be_visible()
    assert finish.bounding_box()["height"] >= 44  # type: ignore[index]
    finish.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You've finished")).to_be_visible()
    assert page.url == f"{app_url}/chat/finished"
    expect(page.get_by_text("You can close this page")).to_be_visible()
    check_accessibility(page, axe_script, "on the finished page")
    page.goto(f"{app_url}/chat")  # the cookie is gone: the code page, not the chat
    expect(page.get_by_label("Your code")).to_be_visible()
    assert page.locator(".msg").count() == 0
