"""The child's voice section exported as PDF, DOCX, plain text or JSON.

Each format is laid out from a `VoiceDocument` (bot.services.voice_document), which is
built from the PEP's answers only, so no export ever holds safeguarding words. The
child's words are always kept verbatim; only the PDF, whose embedded font (DejaVu Sans)
cannot draw every emoji, shows a visible "[emoji]" (or "[?]") in place of a glyph it lacks.

`export_voice` is what callers use (the CLI, the review pages): it builds the document,
lays it out and records the export in the audit log (format and counts, never words).
"""

from __future__ import annotations

import io
import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, get_args

from sqlalchemy.orm import Session

from bot.services import ServiceError, record_event
from bot.services.voice_document import (
    VoiceAnswer,
    VoiceDocument,
    build_voice_document,
    long_date,
)

ExportFormat = Literal["json", "text", "pdf", "docx"]
FORMATS: Final[tuple[str, ...]] = get_args(ExportFormat)
#: Formats that are not text and so cannot go to a terminal.
BINARY_FORMATS: Final = frozenset({"pdf", "docx"})

MEDIA_TYPES: Final[dict[str, str]] = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS: Final[dict[str, str]] = {"json": "json", "text": "txt", "pdf": "pdf", "docx": "docx"}

TITLE = "Child's voice"
SKIPPED = "Skipped"
NO_ANSWERS = "No answers yet."
TEACHER_PREFIX = "For the PEP: "
TEXT_WIDTH = 78

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES: Final[dict[str, str]] = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
}
FONT_FAMILY = "DejaVu"
EMOJI_PLACEHOLDER = "[emoji]"
OTHER_PLACEHOLDER = "[?]"


class ExportError(ServiceError):
    pass


# --- Wording shared by every layout ----------------------------------------------------


def quoted(text: str) -> str:
    """The child's words, verbatim, in quotation marks."""
    return f"\u201c{text}\u201d"


def said_by_line(answer: VoiceAnswer) -> str:
    return f"Said by {answer.said_by}, {long_date(answer.answered_on)}"


def header_lines(doc: VoiceDocument) -> list[tuple[str, str]]:
    """(label, value) pairs that open every layout."""
    submitted = doc.submitted_on
    return [
        ("Name", doc.child_first_name),
        ("Year group", doc.year_group_label),
        ("PEP meeting", long_date(doc.meeting_date)),
        ("Sent to school", long_date(submitted) if submitted else "Not sent yet"),
    ]


def filename(doc: VoiceDocument, fmt: str) -> str:
    """A download name without the child's name (file names end up in many places)."""
    return f"childs-voice-pep-{doc.pep_id}-{doc.meeting_date.isoformat()}.{EXTENSIONS[fmt]}"


# --- JSON ----------------------------------------------------------------------------


def to_json(doc: VoiceDocument) -> dict[str, Any]:
    """JSON-ready: the PEP, then every answer in document order.

    Compatible with the export before issue 10 (same keys; answers now come in question
    order), plus each answer's section, label, said_by and teacher_wording.
    """
    return {
        "pep_id": doc.pep_id,
        "meeting_date": doc.meeting_date.isoformat(),
        "status": doc.status,
        "submitted_at": doc.submitted_at.isoformat() if doc.submitted_at else None,
        "child_first_name": doc.child_first_name,
        "year_group": doc.year_group,
        "year_group_label": doc.year_group_label,
        "phase": doc.phase,
        "sections": [{"key": s.key, "title": s.title} for s in doc.sections],
        "answers": [
            {
                "question_key": a.question_key,
                "section": a.section,
                "label": a.label,
                "text": a.text,
                "skipped": a.skipped,
                "answered_by": a.answered_by.value,
                "said_by": a.said_by,
                "teacher_wording": a.teacher_wording,
                "phase": a.phase,
                "tags": list(a.tags),
                "answered_at": a.answered_at.isoformat(),
            }
            for a in doc.answers
        ],
    }


# --- Plain text ------------------------------------------------------------------------


def _wrap(text: str, width: int) -> list[str]:
    """Wrap each of the text's own lines; its line breaks and blank lines are kept.

    Only "\n" breaks a line (str.splitlines would also break at characters a child may
    have typed, such as a vertical tab). With width 0 the text is left exactly as it is.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if width <= 0:
        return lines
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(
            textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
        )
    return wrapped


def to_text(doc: VoiceDocument, width: int = TEXT_WIDTH) -> str:
    """Plain text to paste into an ePEP form: no markup, paragraphs wrapped at `width`
    (0: not wrapped), the child's words in quotation marks."""
    out: list[str] = [TITLE, ""]
    out += [f"{label}: {value}" for label, value in header_lines(doc)]
    if not doc.sections:
        out += ["", NO_ANSWERS]
    for section in doc.sections:
        out += ["", "", section.title]
        for answer in section.answers:
            out += ["", *_wrap(answer.label, width)]
            if answer.text is None:
                out.append(SKIPPED)
            else:
                out += _wrap(quoted(answer.text), width)
            out += _wrap(said_by_line(answer), width)
            if answer.teacher_wording:
                out += _wrap(TEACHER_PREFIX + answer.teacher_wording, width)
    return "\n".join(out) + "\n"


# --- DOCX ------------------------------------------------------------------------------

# Characters an XML 1.0 document cannot hold (python-docx refuses them). Tab, newline and
# carriage return are allowed; U+FFFE/U+FFFF are not characters.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def to_docx(doc: VoiceDocument) -> bytes:
    """A Word document: real headings, the child's words in the Quote style."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document()
    props = document.core_properties
    props.title = TITLE
    props.author = "PEP Voice"
    props.last_modified_by = "PEP Voice"
    props.comments = ""
    props.keywords = ""
    props.subject = "Personal Education Plan"

    document.add_heading(TITLE, level=0)
    for label, value in header_lines(doc):
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(_xml_safe(value))
    if not doc.sections:
        document.add_paragraph(NO_ANSWERS)
    for section in doc.sections:
        document.add_heading(section.title, level=1)
        for answer in section.answers:
            document.add_heading(_xml_safe(answer.label), level=2)
            if answer.text is None:
                document.add_paragraph().add_run(SKIPPED).italic = True
            else:
                document.add_paragraph(_xml_safe(quoted(answer.text)), style="Quote")
            said = document.add_paragraph().add_run(_xml_safe(said_by_line(answer)))
            said.font.size = Pt(9)
            said.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            if answer.teacher_wording:
                paragraph = document.add_paragraph()
                paragraph.add_run(TEACHER_PREFIX).bold = True
                paragraph.add_run(_xml_safe(answer.teacher_wording))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- PDF -------------------------------------------------------------------------------

# Code points that only modify or join the character before them (variation selectors,
# zero-width joiner, keycap, skin tones, tag characters): they never get a placeholder.
_MODIFIERS = frozenset(
    {0x200D, 0xFE0E, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400)) | set(range(0xE0020, 0xE0080))
)
_REGIONAL = range(0x1F1E6, 0x1F200)


def font_path(style: str = "") -> Path:
    path = FONT_DIR / FONT_FILES[style]
    if not path.is_file():
        raise ExportError(
            f"The PDF export needs the DejaVu font ({path}); install the Debian package "
            "fonts-dejavu-core."
        )
    return path


@cache
def _drawable(style: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_path(style), lazy=True) as font:
        return frozenset(font.getBestCmap())


def pdf_safe(text: str, style: str = "") -> str:
    """`text` with each character (or emoji sequence) the font cannot draw replaced by a
    visible placeholder: "[emoji]" for a symbol, "[?]" for anything else."""
    drawable = _drawable(style)
    out: list[str] = []
    # "drawn"; "emoji" or "other" (a placeholder was written); "joiner" (a ZWJ after an
    # emoji: the next character is part of it); "flag" (half a regional-indicator pair).
    previous = "drawn"
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        code = ord(char)
        if code in _MODIFIERS or unicodedata.category(char) in {"Mn", "Me", "Cf", "Cc"}:
            if char in "\n\t" or (code in drawable and code not in _MODIFIERS):
                out.append(char)
                previous = "drawn"
            elif code == 0x200D and previous in {"emoji", "flag"}:
                previous = "joiner"
            # Otherwise invisible: a variation selector, skin tone, or a mark we cannot draw.
        elif code in drawable:
            out.append(char)
            previous = "drawn"
        elif previous == "joiner" or (code in _REGIONAL and previous == "flag"):
            previous = "emoji"  # the rest of one emoji sequence
        elif unicodedata.category(char) in {"So", "Sk", "Cs"} or code >= 0x1F000:
            out.append(EMOJI_PLACEHOLDER)
            previous = "flag" if code in _REGIONAL else "emoji"
        elif previous != "other":  # a run of letters the font lacks: one placeholder
            out.append(OTHER_PLACEHOLDER)
            previous = "other"
    return "".join(out)


def to_pdf(doc: VoiceDocument) -> bytes:
    """An A4 PDF laid out as a PEP's child's voice section, the DejaVu font embedded."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    first_name = doc.child_first_name

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(FONT_FAMILY, "", 8)
            self.set_text_color(0x55, 0x55, 0x55)
            footer = f"{TITLE}: {first_name}, page {self.page_no()} of {{nb}}"
            self.cell(0, 10, pdf_safe(footer), align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    for style in FONT_FILES:
        pdf.add_font(FONT_FAMILY, style, str(font_path(style)))
    pdf.set_title(TITLE)
    pdf.set_author("PEP Voice")
    pdf.set_creator("PEP Voice")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def write(text: str, style: str = "", size: float = 11, height: float = 6) -> None:
        pdf.set_font(FONT_FAMILY, style, size)
        pdf.multi_cell(
            0, height, pdf_safe(text, style), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    pdf.set_text_color(0, 0, 0)
    write(TITLE, "B", 20, 10)
    pdf.ln(2)
    for label, value in header_lines(doc):
        write(f"{label}: {value}")
    if not doc.sections:
        pdf.ln(4)
        write(NO_ANSWERS)
    for section in doc.sections:
        pdf.ln(6)
        write(section.title, "B", 15, 8)
        for answer in section.answers:
            pdf.ln(3)
            write(answer.label, "B", 11)
            if answer.text is None:
                write(SKIPPED, "I")
            else:
                write(quoted(answer.text))
            pdf.set_text_color(0x55, 0x55, 0x55)
            write(said_by_line(answer), "", 9, 5)
            pdf.set_text_color(0, 0, 0)
            if answer.teacher_wording:
                write(TEACHER_PREFIX + answer.teacher_wording)
    return bytes(pdf.output())


# --- Audited export --------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceExport:
    """One export, ready to download or write: `content` with its type and a file name."""

    content: bytes
    media_type: str
    filename: str
    format: str


def render(doc: VoiceDocument, fmt: str) -> bytes:
    """`doc` in format `fmt` (one of FORMATS) as bytes; text and JSON are UTF-8."""
    if fmt == "json":
        return (json.dumps(to_json(doc), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "text":
        return to_text(doc).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(doc)
    if fmt == "docx":
        return to_docx(doc)
    raise ExportError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")


def record_export(session: Session, doc: VoiceDocument, actor: str, fmt: str) -> None:
    """Audit one export: who, which PEP, which format, how many answers; never words."""
    record_event(
        session,
        actor,
        "pep.exported",
        school_id=doc.school_id,
        pep_id=doc.pep_id,
        format=fmt,
        answers=len(doc.answers),
    )
    session.flush()


def export_voice(
    session: Session, pep_id: int, fmt: str, actor: str, *, school_id: int | None = None
) -> VoiceExport:
    """PEP `pep_id`'s child's voice in format `fmt` (json, text, pdf, docx), audited.

    With `school_id`, another school's PEP raises directory.NotFound. An unknown format
    raises ExportError before anything is read or recorded.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")
    doc = build_voice_document(session, pep_id, school_id=school_id)
    content = render(doc, fmt)
    record_export(session, doc, actor, fmt)
    return VoiceExport(
        content=content, media_type=MEDIA_TYPES[fmt], filename=filename(doc, fmt), format=fmt
    )
