"""What the chat page shows about a PEP: which part of the reflection, and who is answering.

How far the child has got is bot.services.progress's (the same questions the conversation
asks); this module only words it for the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.models import AnsweredBy
from bot.services.progress import pep_progress

ANSWERING_LABELS = {
    AnsweredBy.child: "You",
    AnsweredBy.with_carer: "You and your carer",
    AnsweredBy.carer: "Your carer",
}


@dataclass(frozen=True)
class Progress:
    part: int  # 1-based; equals `parts` when everything is answered
    parts: int
    title: str
    done: bool

    @property
    def label(self) -> str:
        if self.done:
            return f"All {self.parts} parts done"
        return f"Part {self.part} of {self.parts}: {self.title}"


@dataclass(frozen=True)
class PepView:
    progress: Progress
    # Who answered the latest answer (the choice is recorded on every answer); None before.
    answering: str | None
    submitted: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "progress": {**asdict(self.progress), "label": self.progress.label},
            "answering": self.answering,
            "submitted": self.submitted,
        }


def pep_view(pep_id: int) -> PepView:
    """LookupError for an unknown PEP."""
    state = pep_progress(pep_id)
    answering = ANSWERING_LABELS.get(state.answered_by) if state.answered_by else None
    return PepView(
        Progress(state.part, state.parts, state.title, state.done), answering, state.submitted
    )
