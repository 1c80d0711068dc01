"""A real SMTP server (aiosmtpd) on a free loopback port, and small builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import Pep, Role, SafeguardingConcern
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.settings import Settings, get_settings
from tests import factories
from tests.integration.stack import free_port

# Distinctive, so a leak anywhere is easy to find.
WORDS = "my uncle Zebedee hits me with a belt when mum is out"


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name.upper(), value)
    get_settings.cache_clear()
    return get_settings()


def plain_smtp_on_a_free_port(monkeypatch: pytest.MonkeyPatch, **env: str) -> int:
    """Point the mail settings at a free loopback port, plain SMTP (SMTP_SECURITY=none, as
    SmtpServer speaks by default; test_smtp_tls.py covers TLS), and any other `env`."""
    port = free_port()
    configure(
        monkeypatch,
        smtp_host="127.0.0.1",
        smtp_port=str(port),
        smtp_security="none",
        smtp_timeout_seconds="3",
        **env,
    )
    return port


#: The retry policy's pauses in these tests: short, but long enough to see the back-off.
RETRY_DELAYS = (0.2, 0.3, 0.5)


@pytest.fixture
def smtp_port(monkeypatch: pytest.MonkeyPatch, app_settings: Settings) -> int:
    """Mail settings for a free port, with short retry delays."""
    return plain_smtp_on_a_free_port(monkeypatch, alert_retry_delays=str(list(RETRY_DELAYS)))


@pytest.fixture
def store(committed_db: Engine) -> Engine:
    """committed_db: what the deliverer commits through bot.db, emptied after the test."""
    return committed_db


Staff = tuple[str, Role]


def add_school(session: Session, name: str, *staff: Staff) -> None:
    factories.school(session, name, staff=staff)


def add_pep(session: Session, school: str, first_name: str = "Alex", year: int = 5) -> Pep:
    return factories.child_pep(
        session, school, first_name=first_name, year_group=year, meeting=date(2030, 3, 14)
    )


def record(
    session: Session,
    pep: Pep | None,
    message_id: str = "m1",
    *,
    category: str = "physical_abuse",
    question_key: str | None = "enjoy_school",
) -> SafeguardingConcern:
    concern, _ = report_disclosure(
        session,
        pep,
        words=WORDS,
        category=category,
        source="engine",
        question_key=question_key,
        dedupe_key=dedupe_key_for("conversation-1", message_id),
    )
    return concern


@pytest.fixture
def committed(store: Engine) -> Callable[..., int]:
    """`committed(school_staff, pep=True) -> concern id`, built in a committed transaction."""

    def build(*staff: Staff, with_pep: bool = True, school: str = "Oak Primary") -> int:
        with session_scope() as session:
            add_school(session, school, *staff)
            pep = add_pep(session, school) if with_pep else None
            return record(session, pep).id

    return build


def concern_row(concern_id: int) -> SafeguardingConcern:
    with session_scope() as session:
        concern = session.scalar(
            select(SafeguardingConcern).where(SafeguardingConcern.id == concern_id)
        )
        assert concern is not None
        session.expunge(concern)
        return concern
