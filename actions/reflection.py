"""The reflection form: which questions this child is asked, and saving each answer."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import AnswerFormValidation, choice_in
from bot.questions import METADATA_KEYS, QUESTIONS
from bot.services.answerer import understood_answerer
from bot.services.conversation import NotLinked, StoreUnavailable, reflection_plan
from pep_nlp.contract import Slot


class ValidateReflectionForm(AnswerFormValidation):
    answer_slots: ClassVar[frozenset[str]] = frozenset(
        q.key for q in QUESTIONS if q.key not in METADATA_KEYS
    )

    def name(self) -> str:
        return "validate_reflection_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The plan is fixed when the chat is linked; the store is asked only if it's missing.
        plan = tracker.get_slot(Slot.plan)
        if not plan:
            try:
                plan = await asyncio.to_thread(reflection_plan, tracker.sender_id)
            except (NotLinked, StoreUnavailable):
                plan = []
        return [key for key in plan if key in domain_slots]

    async def validate_answered_by(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        # Recorded on every answer rather than as an answer of its own.
        words = choice_in(tracker.latest_message) or str(value or "")
        return {Slot.answered_by: understood_answerer(value, words)}
