"""Who is told of a concern: a pure choice over the school's contacts (no database here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Why these people: the email says so, and the audit log records it.
RecipientKind = Literal["dsl", "virtual_school", "fallback", "none"]


@dataclass(frozen=True)
class SchoolContacts:
    """The school's staff who may be alerted, as registered in PEP Voice."""

    dsls: tuple[str, ...] = ()  # Designated Safeguarding Leads and their deputies
    virtual_school: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipients:
    emails: tuple[str, ...]
    kind: RecipientKind


def choose_recipients(contacts: SchoolContacts, fallback_email: str | None) -> Recipients:
    """The school's DSLs, else its virtual-school staff, else VIRTUAL_SCHOOL_EMAIL
    (`fallback_email`), else no one (the delivery records that and retries)."""
    if contacts.dsls:
        return Recipients(contacts.dsls, "dsl")
    if contacts.virtual_school:
        return Recipients(contacts.virtual_school, "virtual_school")
    if fallback_email and fallback_email.strip():
        return Recipients((fallback_email.strip(),), "fallback")
    return Recipients((), "none")
