"""The child's voice as a JSON-ready document for the designated teacher.

The layout lives in bot.services.voice_document (the data) and bot.services.voice_export
(JSON, plain text, PDF, DOCX); this is the audited JSON export the CLI has always printed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.services.voice_document import build_voice_document
from bot.services.voice_export import record_export, to_json


def export_child_voice(
    session: Session, pep_id: int, actor: str, *, school_id: int | None = None
) -> dict[str, Any]:
    """Every answer of the PEP, in question order; audited as "pep.exported" (format json).

    With `school_id`, a PEP of another school raises NotFound.
    `answered_at` is when the current wording was given (a changed answer
    keeps its place in the order but shows the later time).
    """
    doc = build_voice_document(session, pep_id, school_id=school_id)
    record_export(session, doc, actor, "json")
    return to_json(doc)
