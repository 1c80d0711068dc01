"""A shared base for forms whose slots are the child's answers.

Every answer is saved the moment it is given. If saving fails, the slot is emptied and the
child is told, so the form asks the same question again: an answer is saved or re-asked,
never silently lost.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.services.answers import AlreadySubmitted, AnswerTooLong
from bot.services.conversation import NotLinked, save_conversation_answer

logger = logging.getLogger(__name__)

SlotValidator = Callable[
    [Any, Any, CollectingDispatcher, Tracker, DomainDict], Awaitable[dict[str, Any]]
]


def _answer_validator(slot: str) -> SlotValidator:
    async def validate_answer(
        self: Any,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        saved = await save_answer(slot, value, dispatcher, tracker)
        return {slot: value if saved else None}

    return validate_answer


async def save_answer(
    question_key: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> bool:
    """Save the child's words for one question; tell the child when that failed."""
    try:
        await asyncio.to_thread(
            save_conversation_answer, tracker.sender_id, question_key, str(value)
        )
    except AnswerTooLong:
        dispatcher.utter_message(response="utter_answer_too_long")
        return False
    except AlreadySubmitted:
        dispatcher.utter_message(response="utter_code_submitted")
        return False
    except (SQLAlchemyError, NotLinked) as error:
        # Never log the answer itself: only which question and why.
        logger.warning("could not save answer to %s: %s", question_key, type(error).__name__)
        dispatcher.utter_message(response="utter_save_failed")
        return False
    return True


class AnswerFormValidation(FormValidationAction):  # type: ignore[misc]  # rasa-sdk is untyped
    """Subclasses list their answer slots; each gets a `validate_<slot>` that saves it."""

    answer_slots: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa-sdk registers the concrete forms but not this base."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for slot in cls.answer_slots:
            if not hasattr(cls, f"validate_{slot}"):
                setattr(cls, f"validate_{slot}", _answer_validator(slot))
