"""The reflection form: the questions a child answers before their PEP meeting."""

from __future__ import annotations

from typing import ClassVar

from actions.answer_form import AnswerFormValidation


class ValidateReflectionForm(AnswerFormValidation):
    answer_slots: ClassVar[frozenset[str]] = frozenset({"going_well"})

    def name(self) -> str:
        return "validate_reflection_form"
