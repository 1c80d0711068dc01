"""Each export format: the child's words (verbatim, in quotes), who said them, skipped
answers marked, and never a safeguarding disclosure. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Pep
from bot.services import directory
from bot.services.voice_document import VoiceDocument, build_voice_document
from bot.services.voice_export import (
    EMOJI_PLACEHOLDER,
    FORMATS,
    MEDIA_TYPES,
    NO_ANSWERS,
    OTHER_PLACEHOLDER,
    TEXT_WIDTH,
    ExportError,
    export_voice,
    pdf_safe,
    quoted,
    to_docx,
    to_json,
    to_pdf,
    to_text,
)
from tests.services.export.sample import (
    DISCLOSURE_WORDS,
    FEELING,
    FIRST_NAME,
    GOING_WELL,
    HTML_LIKE,
    LONG,
    TEXTS,
    WHEN_OLDER,
    pdf_text,
    squashed,
)

SAID = {
    "feeling_now": f"Said by {FIRST_NAME}, 1 March 2030",
    "going_well": f"Said by {FIRST_NAME} with a carer, 1 March 2030",
    "when_older": "Said by A carer, 1 March 2030",
}


@pytest.fixture
def doc(session: Session, filled_pep: Pep) -> VoiceDocument:
    return build_voice_document(session, filled_pep.id)


def _assert_no_disclosure(text: str) -> None:
    for word in DISCLOSURE_WORDS:
        assert word.lower() not in text.lower()


# --- plain text --------------------------------------------------------------------------


def test_text(doc: VoiceDocument) -> None:
    text = to_text(doc, width=0)
    lines = text.splitlines()
    assert lines[:6] == [
        "Child's voice",
        "",
        f"Name: {FIRST_NAME}",
        "Year group: Year 5",
        "PEP meeting: 14 March 2030",
        "Sent to school: 2 March 2030",
    ]
    for key, words in TEXTS.items():
        if words is not None:
            assert quoted(words) in text, key  # exact: emoji, accents, "<b>" and "&amp;" kept
    assert "\u201cok i guess 😀\u201d" in lines
    for line in SAID.values():
        assert line in lines
    # A skipped question: its label, then "Skipped", then who skipped it.
    at = lines.index("What's been hard or tricky")
    assert lines[at + 1 : at + 3] == ["Skipped", f"Said by {FIRST_NAME}, 1 March 2030"]
    assert "Looking back" in lines and "For the PEP:" not in text
    _assert_no_disclosure(text)


def test_text_wraps_paragraphs_but_keeps_the_words(doc: VoiceDocument) -> None:
    text = to_text(doc)
    assert max(len(line) for line in text.splitlines()) <= TEXT_WIDTH
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("\u201cwhen miss"))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith("\u201d"))
    assert end > start  # wrapped over several lines
    assert " ".join(lines[start : end + 1]) == quoted(LONG)
    # The child's own line break stays a line break.
    assert "\u201ca vet 🐶🦄 or a footballer" in lines
    assert "or a \U0001f469\U0001f3fd\u200d\U0001f680\u201d" in lines


def test_every_format_shows_teacher_wording(
    session: Session, filled_pep: Pep, tmp_path: Path
) -> None:
    doc = build_voice_document(session, filled_pep.id)
    wording = "Zoë enjoys reading."
    sections = tuple(
        replace(s, answers=tuple(replace(a, teacher_wording=wording) for a in s.answers))
        if s.key == "start"
        else s
        for s in doc.sections
    )
    changed = replace(doc, sections=sections)
    line = f"For the PEP: {wording}"
    assert line in to_text(changed).splitlines()
    assert to_json(changed)["answers"][0]["teacher_wording"] == wording
    assert to_json(changed)["answers"][1]["teacher_wording"] is None
    paragraphs = [p.text for p in Document(io.BytesIO(to_docx(changed))).paragraphs]
    assert paragraphs.count(line) == 1
    assert squashed(pdf_text(to_pdf(changed), tmp_path)).count(line) == 1


# --- JSON -------------------------------------------------------------------------------


def test_json(doc: VoiceDocument) -> None:
    document = to_json(doc)
    dumped = json.dumps(document, ensure_ascii=False)
    assert json.loads(dumped) == document
    assert document["child_first_name"] == FIRST_NAME
    assert document["year_group_label"] == "Year 5"
    answers = {a["question_key"]: a for a in document["answers"]}
    assert {k: a["text"] for k, a in answers.items()} == TEXTS
    assert answers["going_well"]["said_by"] == f"{FIRST_NAME} with a carer"
    assert answers["going_well"]["answered_by"] == "with_carer"
    assert answers["going_well"]["label"] == "What's been going well"
    assert answers["hard"]["skipped"] is True
    assert answers["when_older"]["teacher_wording"] is None
    assert [s["key"] for s in document["sections"]] == [
        "start",
        "looking_back",
        "looking_forward",
        "support",
    ]
    _assert_no_disclosure(dumped)


# --- DOCX -------------------------------------------------------------------------------


def test_docx(doc: VoiceDocument) -> None:
    content = to_docx(doc)
    document = Document(io.BytesIO(content))
    paragraphs = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Child's voice")
    texts = [text for _, text in paragraphs]
    assert f"Name: {FIRST_NAME}" in texts and "PEP meeting: 14 March 2030" in texts
    assert ("Heading 1", "Looking back") in paragraphs
    assert ("Heading 2", "What's been going well") in paragraphs
    quotes = [text for style, text in paragraphs if style == "Quote"]
    assert quotes == [
        quoted(FEELING),
        quoted(GOING_WELL),
        quoted(HTML_LIKE),
        quoted(WHEN_OLDER),  # the line break comes back as a line break
        quoted(LONG),
    ]
    for line in SAID.values():
        assert line in texts
    at = texts.index("What's been hard or tricky")
    assert texts[at + 1 : at + 3] == ["Skipped", f"Said by {FIRST_NAME}, 1 March 2030"]
    assert document.core_properties.title == "Child's voice"
    assert document.core_properties.author == "PEP Voice"
    # Every part of the package, not only what python-docx shows.
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
    _assert_no_disclosure(everything.decode("utf-8", "replace"))
    assert b"<script>" not in everything  # escaped, kept as text
    assert b"&lt;script&gt;" in everything


def test_docx_keeps_control_characters_out_of_the_xml(session: Session, pep: Pep) -> None:
    from bot.services.answers import record_answer

    record_answer(session, pep, "friends", "jay\x0bmaya\x1b", "child", "ks1_2")
    doc = build_voice_document(session, pep.id)
    quotes = [p.text for p in Document(io.BytesIO(to_docx(doc))).paragraphs]
    assert quoted("jay\ufffdmaya\ufffd") in quotes
    assert quoted("jay\x0bmaya\x1b") in to_text(doc, width=0)  # unwrapped text keeps them


# --- PDF --------------------------------------------------------------------------------


def test_pdf(doc: VoiceDocument, tmp_path: Path) -> None:
    content = to_pdf(doc)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content, tmp_path)
    flat = squashed(text)
    assert flat.startswith("Child's voice")
    assert f"Name: {FIRST_NAME}" in flat and "Year group: Year 5" in flat
    assert "PEP meeting: 14 March 2030" in flat and "Sent to school: 2 March 2030" in flat
    assert "Looking back" in flat and "What's been going well" in flat
    for line in SAID.values():
        assert line in flat
    assert "What's been hard or tricky Skipped" in flat
    # The words in quotes; what DejaVu Sans cannot draw is a visible placeholder.
    assert quoted(FEELING) in flat  # DejaVu has 😀
    assert quoted(pdf_safe(GOING_WELL)) in flat
    assert f'reading group {EMOJI_PLACEHOLDER} and art is "fun" \u2013 café crème' in flat
    assert quoted(HTML_LIKE) in flat
    assert squashed(quoted(LONG)) in flat
    assert (
        f"\u201ca vet {EMOJI_PLACEHOLDER}{EMOJI_PLACEHOLDER} or a footballer "
        f"or a {EMOJI_PLACEHOLDER}\u201d" in flat
    )
    assert f"{FIRST_NAME}, page 1 of 1" in flat
    _assert_no_disclosure(text)
    _assert_no_disclosure(content.decode("latin-1"))


def test_pdf_long_answers_run_over_pages(session: Session, pep: Pep, tmp_path: Path) -> None:
    from bot.questions import questions_for
    from bot.services.answers import MAX_ANSWER_CHARS, record_answer

    word = "Ünïcödé🦄 "
    for question in questions_for(9, ["get_better_at", "help_wanted"]):
        text = (word * (MAX_ANSWER_CHARS // len(word)))[:MAX_ANSWER_CHARS]
        record_answer(session, pep, question.key, text, "child", "ks1_2")
    doc = build_voice_document(session, pep.id)
    text = pdf_text(to_pdf(doc), tmp_path)
    assert "page 1 of" in text and "page 5 of" in text
    assert f"Ünïcödé{EMOJI_PLACEHOLDER}" in text


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("café ñ ß ł", "café ñ ß ł"),
        ("👍🏽 yes", f"{EMOJI_PLACEHOLDER} yes"),  # skin tone: one emoji
        ("🏳️\u200d🌈", EMOJI_PLACEHOLDER),  # a ZWJ sequence: one emoji
        ("🇬🇧🇫🇷", EMOJI_PLACEHOLDER * 2),  # two flags
        ("🦄🦄", EMOJI_PLACEHOLDER * 2),
        ("❤️", "❤"),  # drawable; the variation selector is invisible anyway
        ("中文 ok", f"{OTHER_PLACEHOLDER} ok"),  # letters the font lacks: one per run
        ("a\nb\tc", "a\nb\tc"),
        ("x\r\ny", "x\ny"),
    ],
)
def test_pdf_safe(given: str, shown: str) -> None:
    assert pdf_safe(given) == shown


# --- every format -----------------------------------------------------------------------


def _readable(fmt: str, content: bytes, tmp_path: Path) -> str:
    if fmt == "pdf":
        return pdf_text(content, tmp_path)
    if fmt == "docx":
        return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    return content.decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_voice_is_audited_without_words(
    session: Session, filled_pep: Pep, fmt: str, tmp_path: Path
) -> None:
    exported = export_voice(session, filled_pep.id, fmt, actor="dt@example.org")
    assert exported.media_type == MEDIA_TYPES[fmt]
    assert exported.filename.startswith(f"childs-voice-pep-{filled_pep.id}-2030-03-14.")
    assert FIRST_NAME not in exported.filename
    readable = _readable(fmt, exported.content, tmp_path)
    assert "ok i guess" in readable and "café crème" in readable
    _assert_no_disclosure(readable)

    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "pep.exported", AuditEvent.pep_id == filled_pep.id
        )
    ).one()
    assert event.actor == "dt@example.org"
    assert event.school_id == filled_pep.child.school_id
    assert event.detail == {"format": fmt, "answers": len(TEXTS)}
    detail = json.dumps(event.detail, ensure_ascii=False)
    for words in [*(t for t in TEXTS.values() if t), *DISCLOSURE_WORDS]:
        assert words not in detail


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_of_an_empty_pep(session: Session, pep: Pep, fmt: str, tmp_path: Path) -> None:
    exported = export_voice(session, pep.id, fmt, actor="dt@example.org")
    readable = _readable(fmt, exported.content, tmp_path)
    if fmt == "json":
        assert json.loads(readable)["answers"] == []
    else:
        assert NO_ANSWERS in readable and "Sent to school: Not sent yet" in readable


def test_export_refusals_record_nothing(session: Session, filled_pep: Pep) -> None:
    with pytest.raises(ExportError):
        export_voice(session, filled_pep.id, "html", actor="x")
    other = directory.add_school(session, "Not Theirs")
    with pytest.raises(directory.NotFound):
        export_voice(session, filled_pep.id, "pdf", actor="x", school_id=other.id)
    exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "pep.exported"))
    assert exported.all() == []
