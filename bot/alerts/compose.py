"""What the lead is told: the alert, the update and the could-not-be-stored notice, from the
templates in bot/templates/email/. Only ids, category, year group, UK time, school name and
links reach a template; the reply the child was given is read from the domain."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.alerts.facts import AlertFacts
from bot.alerts.recipients import Recipients
from bot.domain_text import response_text
from bot.mail import new_message
from bot.phases import phase_for_year
from bot.settings import Settings
from bot.uk_time import uk_time
from pep_nlp.contract import CLASSIFIER_CATEGORY

SUBJECT = "PEP Voice: a child may need safeguarding support (ref {id})"
UPDATE_SUBJECT = "PEP Voice: the child said more about concern ref {id}"
UNRECORDED_SUBJECT = "PEP Voice: a safeguarding concern could not be stored"
#: The bot's reply to a disclosure (actions/disclosure.py), quoted in every alert.
DISCLOSURE_RESPONSE = "utter_disclosure_response"

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "email"


@cache
def _templates() -> Environment:
    # Plain text, so no HTML escaping; StrictUndefined: a missing fact fails, never blanks.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def year_group_words(year_group: int) -> str:
    return {-1: "Nursery", 0: "Reception"}.get(year_group, f"Year {year_group}")


def child_was_told(year_group: int | None) -> str:
    """The reply the child was given, as the domain words it for their phase (the variant
    with no condition when the chat was not linked to a PEP, as Rasa chooses then)."""
    phase = phase_for_year(year_group).value if year_group is not None else None
    return response_text(DISCLOSURE_RESPONSE, phase=phase)


def _category_line(facts: AlertFacts) -> str:
    if facts.category == CLASSIFIER_CATEGORY:
        return "not categorised (flagged by the language classifier)"
    how = "keyword screen" if facts.source == "answer_screen" else "safeguarding screen"
    return f"{facts.category.replace('_', ' ')} (flagged by the {how})"


def _child_line(facts: AlertFacts) -> str:
    if facts.child_first_name is None or facts.year_group is None:
        return "not known yet: the chat had not been linked to a PEP with an invite code"
    return f"{facts.child_first_name}, {year_group_words(facts.year_group)}"


def compose_alert(facts: AlertFacts, recipients: Recipients, settings: Settings) -> EmailMessage:
    template = "update.txt" if facts.is_update else "alert.txt"
    body = (
        _templates()
        .get_template(template)
        .render(
            reference=facts.concern_id,
            further_messages=facts.further_messages,
            child=_child_line(facts),
            school=facts.school_name or "not known",
            pep=facts.pep_id if facts.pep_id is not None else "none",
            time=uk_time(facts.created_at),
            category=_category_line(facts),
            question=facts.question_key or "none (not an answer to a question)",
            child_was_told=child_was_told(facts.year_group),
            concern_url=f"{settings.web.base_url.rstrip('/')}/review/concerns/{facts.concern_id}",
            recipient_kind=recipients.kind,
        )
    )
    subject = (UPDATE_SUBJECT if facts.is_update else SUBJECT).format(id=facts.concern_id)
    return new_message(subject, recipients.emails, body, settings)


def compose_unrecorded_notice(
    *, category: str, conversation_ref: str, at: datetime, to: str, settings: Settings
) -> EmailMessage:
    """`category` must already be a safe category name (bot.services.safeguarding)."""
    body = (
        _templates()
        .get_template("unrecorded.txt")
        .render(
            time=uk_time(at),
            category=category.replace("_", " "),
            conversation_ref=conversation_ref,
        )
    )
    return new_message(UNRECORDED_SUBJECT, (to,), body, settings)
