"""Child text is always escaped (issue 10): answers, the teacher's wording, comments, a
question sent back, a child's first name and a concern's words holding HTML, script and
template payloads render as text on every review page that shows them, and the downloads
hold them as the words they are. Every review page also carries the security headers.

Each page is parsed with the standard library's HTML parser: the payload must be in the
page's text, and no tag or attribute it could have made (a script without src, an `on...`
handler, an image from nowhere, a `javascript:` link, a style attribute) may be in the page.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from docx import Document
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from bot import db
from bot.models import Child, Pep
from bot.questions import METADATA_KEYS, questions_for
from bot.services.answers import record_answer, submit_voice
from bot.services.child_import import uk_today
from bot.services.directory import add_child, add_pep
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.web.app import app
from tests.review.helpers import World, csrf_from, logged_in

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }} {% if true %}yes{% endif %}"
JS_LINK = 'javascript:alert(document.cookie) <a href="javascript:alert(1)">click me</a>'
# Right-to-left override, Arabic, zero-width space/joiner/non-joiner, an isolate: long.
RTL = " ".join(["\u202eevil\u202c", "\u0645\u0631\u062d\u0628\u0627", "a\u200bb\u200cc\u200dd",
                "\u2066isolated\u2069"] * 12)  # fmt: skip
EMOJI = "I feel \U0001f600 and \U0001f3f3\ufe0f\u200d\U0001f308 at school \U0001f469\U0001f3fd\u200d\U0001f4bb"  # noqa: E501

PAYLOADS = {"script": SCRIPT, "img": IMG, "template": TEMPLATE, "js_link": JS_LINK,
            "rtl": RTL, "emoji": EMOJI}  # fmt: skip
#: Payloads a PDF shows as they are (its font lacks emoji and draws no bidi controls).
PDF_PAYLOADS = ("script", "img", "template", "js_link")


@dataclass
class Parsed(HTMLParser):
    """Tags, attributes and text of one page."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def attribute_values(self, name: str) -> list[str]:
        return [attrs[name] for _, attrs in self.tags if name in attrs]


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed


def assert_only_as_text(page: Response, *payloads: str) -> Parsed:
    """The page is a 200 whose text holds each payload, and nothing a payload could make."""
    assert page.status_code == 200, page.text[:500]
    parsed = parse(page.text)
    for payload in payloads:
        assert payload in parsed.text, (payload, page.request.url)
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs, (tag, attrs)  # the CSP forbids it anyway
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs  # no inline script
        if tag == "img":
            assert attrs.get("src", "").startswith(("/static/", "data:")), attrs
    for name in ("href", "src", "action", "formaction", "xlink:href"):
        for value in parsed.attribute_values(name):
            assert not value.strip().lower().startswith("javascript:"), value
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "49 yes" not in parsed.text  # the template payload was not run
    return parsed


def assert_security_headers(page: Response) -> None:
    headers = page.headers
    directives = {
        part.split()[0]: part.split()[1:]
        for part in headers["content-security-policy"].split(";")
        if part.strip()
    }
    for kind in ("script-src", "style-src"):
        sources = directives.get(kind, directives["default-src"])
        assert "'unsafe-inline'" not in sources and "*" not in sources, (kind, sources)
    assert directives["frame-ancestors"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in {"no-referrer", "same-origin", "strict-origin"}
    assert headers["cache-control"] == "no-store"


# --- The payloads, put in the way staff and children put them -------------------------------


@dataclass(frozen=True)
class Loaded:
    pep_id: int  # Robin's PEP: answers, wording, comment, question
    concern_id: int
    named: dict[str, int]  # name payload -> the child's id (added through the page)
    named_peps: dict[str, int]
    refused_names: dict[str, str]  # name payload -> why the page refused it


#: First names tried through the "Add a child" page (at most 50 characters).
NAMES = {"script": SCRIPT, "img": IMG, "template": "{{ 7*7 }}", "js_link": "javascript:alert(1)",
         "emoji": "Robin \U0001f308", "rtl_override": "\u202eniboR"}  # fmt: skip


def _post(c: TestClient, page: str, action: str, **fields: str) -> Response:
    response: Response = c.post(action, data={"csrf": csrf_from(c.get(page).text), **fields})
    return response


def _add_children(c: TestClient, school_id: int) -> tuple[dict[str, int], dict[str, str]]:
    named: dict[str, int] = {}
    refused: dict[str, str] = {}
    for key, name in NAMES.items():
        response = _post(
            c, "/review/children/new", "/review/children/new", first_name=name, year_group="5",
            meeting_date=(uk_today() + timedelta(days=30)).isoformat(),
        )  # fmt: skip
        if response.status_code == 303:
            with db.session_scope() as session:
                named[key] = session.scalars(
                    select(Child.id).where(Child.school_id == school_id, Child.first_name == name)
                ).one()
        else:
            assert response.status_code == 400, response.text[:300]
            refused[key] = " ".join(parse(response.text).text.split())
    return named, refused


@pytest.fixture
def loaded(world: World) -> Loaded:
    dt = logged_in(world.dt_a)
    named, refused = _add_children(dt, world.school_a)
    with db.session_scope() as session:
        # The service takes what the page refuses (bidi controls): the pages must cope.
        bidi = add_child(session, "Oak Primary", NAMES["rtl_override"], 5)
        add_pep(session, bidi.id, "2030-02-01")
        session.flush()
        named.setdefault("rtl_override", bidi.id)
        named_peps = {
            key: session.scalars(select(Pep.id).where(Pep.child_id == child_id)).first() or 0
            for key, child_id in named.items()
        }
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        keys = [q.key for q in questions_for(pep.child.year_group) if q.key not in METADATA_KEYS]
        answer_ids = {
            name: record_answer(session, pep, key, payload, "child", pep.child.phase).id
            for (name, payload), key in zip(PAYLOADS.items(), keys, strict=False)
        }
        submit_voice(session, pep)  # sent to school: the teacher may send it back
        concern, _ = report_disclosure(
            session, session.get(Pep, named_peps["script"]), words=f"{SCRIPT} {IMG} {TEMPLATE}",
            category="physical_abuse", source="engine", question_key="hard",
            dedupe_key=dedupe_key_for("chat-x", "m1"), conversation_hash="hash-x",
            now=datetime(2030, 1, 10, 9, 30, tzinfo=UTC),
        )  # fmt: skip
        concern_id = concern.id
    page = f"/review/peps/{world.pep_a}"
    for name, answer_id in answer_ids.items():
        wording = f"{PAYLOADS[name]} (teacher)"
        response = _post(dt, page, f"{page}/answers/{answer_id}/wording", wording=wording)
        assert response.status_code == 303, response.text[:300]
    assert _post(dt, page, f"{page}/comments", comment=f"{IMG} {JS_LINK}").status_code == 303
    assert _post(dt, page, f"{page}/return", question=f"{SCRIPT} {TEMPLATE}").status_code == 303
    dsl = logged_in(world.dsl_a)
    concern_page = f"/review/concerns/{concern_id}"
    acknowledged = _post(
        dsl, concern_page, f"{concern_page}/acknowledge", note=f"{SCRIPT} note",
        action_taken=f"{IMG} action",
    )  # fmt: skip
    assert acknowledged.status_code in {200, 303}, acknowledged.text[:300]
    return Loaded(world.pep_a, concern_id, named, named_peps, refused)


# --- Pages ----------------------------------------------------------------------------------


def test_the_add_a_child_page_takes_printable_names_and_refuses_bidi_controls(
    loaded: Loaded,
) -> None:
    assert set(loaded.named) == set(NAMES)
    assert set(loaded.refused_names) == {"rtl_override"}
    assert "characters that cannot be used" in loaded.refused_names["rtl_override"]


def test_the_voice_page_shows_every_payload_as_text(world: World, loaded: Loaded) -> None:
    page = logged_in(world.dt_a).get(f"/review/peps/{loaded.pep_id}")
    parsed = assert_only_as_text(
        page, *PAYLOADS.values(), *(f"{p} (teacher)" for p in PAYLOADS.values()),
        f"{IMG} {JS_LINK}", f"{SCRIPT} {TEMPLATE}",
    )  # fmt: skip
    assert "{{ 7*7 }}" in parsed.text
    assert_security_headers(page)


def test_names_are_text_on_every_page_that_shows_them(world: World, loaded: Loaded) -> None:
    dt = logged_in(world.dt_a)
    dsl = logged_in(world.dsl_a)
    home = dt.get("/review")
    assert_only_as_text(home, *NAMES.values())
    assert_security_headers(home)
    concerns = dsl.get("/review/concerns")
    assert_only_as_text(concerns, NAMES["script"])
    assert_security_headers(concerns)
    for key, name in NAMES.items():
        child_id, pep_id = loaded.named[key], loaded.named_peps[key]
        for page in (
            dt.get(f"/review/children/{child_id}/edit"),
            dt.get(f"/review/peps/{pep_id}"),
            _post(dt, "/review", f"/review/peps/{pep_id}/invite"),  # the printable card
        ):
            parsed = assert_only_as_text(page, name)
            assert_security_headers(page)
            # In a form field the name is an attribute value, still only as text.
            assert all("<" not in v or v in NAMES.values() for v in parsed.attribute_values(
                "value"))  # fmt: skip


def test_a_concerns_words_are_text_for_the_dsl(world: World, loaded: Loaded) -> None:
    page = logged_in(world.dsl_a).get(f"/review/concerns/{loaded.concern_id}")
    assert_only_as_text(page, f"{SCRIPT} {IMG} {TEMPLATE}", f"{SCRIPT} note", f"{IMG} action")
    assert_security_headers(page)


def test_the_carer_guide_and_login_have_the_headers(world: World, loaded: Loaded) -> None:
    guide = logged_in(world.dt_a).get("/review/carer-guide")
    assert_only_as_text(guide)
    assert_security_headers(guide)
    assert_security_headers(TestClient(app).get("/review/login"))


# --- Downloads ------------------------------------------------------------------------------


def _download(world: World, loaded: Loaded, ext: str) -> bytes:
    response = logged_in(world.dt_a).get(f"/review/peps/{loaded.pep_id}/export.{ext}")
    assert response.status_code == 200
    assert_security_headers(response)
    return bytes(response.content)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_text_and_json_hold_the_words_literally(world: World, loaded: Loaded) -> None:
    document = json.loads(_download(world, loaded, "json"))
    answers = {a["text"]: a["teacher_wording"] for a in document["answers"]}
    for payload in PAYLOADS.values():
        assert answers[payload] == f"{payload} (teacher)"
    text = _flat(_download(world, loaded, "txt").decode("utf-8"))
    for payload in PAYLOADS.values():
        assert _flat(payload) in text
        assert _flat(f"{payload} (teacher)") in text
    assert "49" not in text.replace("2030", "")


def test_docx_and_pdf_hold_the_words_as_text(world: World, loaded: Loaded, tmp_path: Path) -> None:
    docx = Document(io.BytesIO(_download(world, loaded, "docx")))
    words = "\n".join(p.text for p in docx.paragraphs)
    for payload in PAYLOADS.values():
        assert payload in words
    pdf = tmp_path / "voice.pdf"
    pdf.write_bytes(_download(world, loaded, "pdf"))
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    flat = _flat(text)
    for key in PDF_PAYLOADS:
        assert _flat(PAYLOADS[key]) in flat, key
    # Each emoji drawn or shown as "[emoji]" (the font lacks some), never silently dropped.
    assert re.search(r"I feel (\U0001f600|\[emoji\]) and \[emoji\] at school \[emoji\]", flat)
    assert re.search(r"isolated", flat)  # the right-to-left payload's letters are there


@pytest.mark.parametrize(
    "markup",
    [
        f"<p>{SCRIPT}</p>",
        "<p><img src=x onerror=alert(1)></p>",
        '<a href="javascript:alert(1)">x</a>',
        '<p style="color:red">x</p>',
        "<p>49 yes</p>",
    ],
)
def test_the_check_catches_markup_that_was_not_escaped(markup: str) -> None:
    """The check above can fail: each of these, unescaped in a page, is caught."""
    page = Response(200, html=f"<!doctype html><html><body>{markup}</body></html>")
    page.request = httpx.Request("GET", "http://testserver/review")
    with pytest.raises(AssertionError):
        assert_only_as_text(page)
