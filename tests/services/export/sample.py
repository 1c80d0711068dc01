"""Sample answers that stress every export, a disclosure none may hold, and PDF helpers."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Answer, ConcernSource, Pep
from bot.services.answers import record_answer, submit_voice
from bot.services.safeguarding import conversation_hash, dedupe_key_for, report_disclosure

FIRST_NAME = "Zoë"
#: A disclosure with words found nowhere else, so any leak into an export is caught.
DISCLOSURE = "Quillfeather hurts me at Marrowgate when nobody sees"
DISCLOSURE_WORDS = ("Quillfeather", "Marrowgate", "nobody sees")

FEELING = "ok i guess 😀"
GOING_WELL = 'i got moved up to the top reading group 📚 and art is "fun" \u2013 café crème'
HTML_LIKE = "<b>maths</b> & <script>alert('x')</script> &amp; 5 < 6"
WHEN_OLDER = "a vet 🐶🦄 or a footballer\nor a \U0001f469\U0001f3fd\u200d\U0001f680"  # astronaut
LONG = ("when miss explains it again quietly and lets me use the number line " * 6).strip()

#: (key, text or None for skipped, answered_by), given in this order: not question order.
ANSWERS: tuple[tuple[str, str | None, str], ...] = (
    ("when_older", WHEN_OLDER, "carer"),
    ("feeling_now", FEELING, "child"),
    ("going_well", GOING_WELL, "with_carer"),
    ("hard", None, "child"),
    ("lessons_hard", HTML_LIKE, "child"),
    ("helps_learn", LONG, "child"),
)
TEXTS = {key: text for key, text, _ in ANSWERS}


def fill_pep(session: Session, pep: Pep, *, submit: bool = True) -> Pep:
    """Answer ANSWERS, record a disclosure for the PEP, and submit it."""
    base = datetime(2030, 3, 1, 9, tzinfo=UTC)
    for key, text, by in ANSWERS:
        record_answer(session, pep, key, text, by, "ks1_2", skipped=text is None)
    # Explicit, distinct times: the order given, whatever the clock's resolution.
    answers = session.scalars(select(Answer).where(Answer.pep_id == pep.id).order_by(Answer.id))
    for offset, answer in enumerate(answers):
        answer.created_at = answer.updated_at = base + timedelta(minutes=offset)
    report_disclosure(
        session,
        pep,
        words=DISCLOSURE,
        category="classifier",
        source=ConcernSource.answer_screen,
        question_key="going_well",
        dedupe_key=dedupe_key_for(f"export-test-{pep.id}", "1"),
        conversation_hash=conversation_hash(f"export-test-{pep.id}"),
    )
    if submit:
        submit_voice(session, pep, now=datetime(2030, 3, 2, 23, 30, tzinfo=UTC))
    session.flush()
    return pep


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler-utils, installed by `make web-test-deps`) reads it."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run `make web-test-deps` (Debian's poppler-utils)")
    path = tmp_path / "export.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def squashed(text: str) -> str:
    """Whitespace runs as one space (PDF lines wrap wherever the page ends)."""
    return " ".join(text.split())
