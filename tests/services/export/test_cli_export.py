"""`python -m bot export --pep N [--format json|text|pdf|docx] [--out FILE]`."""

from __future__ import annotations

import io
import json
import re
import stat
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.models import AuditEvent, Pep
from bot.services import directory
from tests.services.export.sample import (
    DISCLOSURE_WORDS,
    FIRST_NAME,
    GOING_WELL,
    fill_pep,
    pdf_text,
)

pytestmark = pytest.mark.usefixtures("committed_db")

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def pep_id(committed_db: Engine) -> int:
    with Session(committed_db) as session, session.begin():
        directory.add_school(session, "CLI Export School")
        child = directory.add_child(session, "CLI Export School", FIRST_NAME, 5)
        pep = directory.add_pep(session, child.id, date(2030, 3, 14))
        fill_pep(session, pep)
        return pep.id


def _exports(engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "pep.exported").order_by(AuditEvent.id)
        )
        return [event.detail for event in events]


def test_json_to_the_terminal_as_before(capsys: Capture, pep_id: int) -> None:
    status, out, err = run(capsys, "export", "--pep", str(pep_id))
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["child_first_name"] == FIRST_NAME
    assert GOING_WELL in [a["text"] for a in document["answers"]]
    assert "café" in out  # UTF-8, not \\u escapes
    for word in DISCLOSURE_WORDS:
        assert word not in out


def test_text_to_the_terminal(capsys: Capture, pep_id: int, committed_db: Engine) -> None:
    status, out, err = run(capsys, "export", "--pep", str(pep_id), "--format", "text")
    assert (status, err) == (0, "")
    assert out.startswith("Child's voice\n")
    assert f"\u201c{GOING_WELL}\u201d" in out
    assert _exports(committed_db) == [{"format": "text", "answers": 6}]


@pytest.mark.parametrize("fmt", ["pdf", "docx", "json", "text"])
def test_to_a_new_private_file(
    capsys: Capture, pep_id: int, committed_db: Engine, tmp_path: Path, fmt: str
) -> None:
    out_file = tmp_path / f"voice.{fmt}"
    status, out, err = run(
        capsys, "export", "--pep", str(pep_id), "--format", fmt, "--out", str(out_file)
    )
    assert (status, err) == (0, "")
    assert re.fullmatch(
        rf"PEP {pep_id} child's voice \({fmt}\) written to \S+ \(mode 0600\)\n", out
    )
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    content = out_file.read_bytes()
    if fmt == "pdf":
        readable = pdf_text(content, tmp_path)
    elif fmt == "docx":
        readable = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    else:
        readable = content.decode("utf-8")
    assert ("said_by" if fmt == "json" else "Said by") in readable
    assert "café crème" in readable
    for word in DISCLOSURE_WORDS:
        assert word not in readable
    assert _exports(committed_db) == [{"format": fmt, "answers": 6}]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_binary_formats_need_out(
    capsys: Capture, pep_id: int, committed_db: Engine, fmt: str
) -> None:
    status, out, err = run(capsys, "export", "--pep", str(pep_id), "--format", fmt)
    assert (status, out) == (2, "")
    assert err == f"error: --format {fmt} writes a file: add --out FILE\n"
    assert _exports(committed_db) == []


def test_never_overwrites(
    capsys: Capture, pep_id: int, committed_db: Engine, tmp_path: Path
) -> None:
    existing = tmp_path / "voice.pdf"
    existing.write_bytes(b"keep me")
    status, out, err = run(
        capsys, "export", "--pep", str(pep_id), "--format", "pdf", "--out", str(existing)
    )
    assert (status, out) == (2, "")
    assert "already exists" in err
    assert existing.read_bytes() == b"keep me"
    link = tmp_path / "link.pdf"
    link.symlink_to(tmp_path / "nowhere.pdf")
    status, _, err = run(
        capsys, "export", "--pep", str(pep_id), "--format", "pdf", "--out", str(link)
    )
    assert status == 2 and "already exists" in err
    assert not (tmp_path / "nowhere.pdf").exists()
    status, _, err = run(
        capsys,
        "export",
        "--pep",
        str(pep_id),
        "--format",
        "docx",
        "--out",
        str(tmp_path / "no" / "such" / "dir.docx"),
    )
    assert status == 2 and "no such folder" in err
    assert _exports(committed_db) == []


def test_bad_format_and_unknown_pep(capsys: Capture, tmp_path: Path) -> None:
    status, out, err = run(capsys, "export", "--pep", "1", "--format", "html")
    assert (status, out) == (2, "")
    assert "invalid choice" in err
    out_file = tmp_path / "x.pdf"
    status, out, err = run(
        capsys, "export", "--pep", "999999", "--format", "pdf", "--out", str(out_file)
    )
    assert (status, out) == (2, "")
    assert not out_file.exists()


def test_a_pep_without_answers(capsys: Capture, committed_db: Engine) -> None:
    with Session(committed_db) as session, session.begin():
        directory.add_school(session, "Empty School")
        child = directory.add_child(session, "Empty School", "Sam", 0)
        pep: Pep = directory.add_pep(session, child.id, date(2030, 1, 20))
        pep_id = pep.id
    status, out, _ = run(capsys, "export", "--pep", str(pep_id), "--format", "text")
    assert status == 0
    assert "Year group: Reception" in out and "No answers yet." in out
