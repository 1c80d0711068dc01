"""Telegram channel fixtures: a fake Bot API (and fake engine) on loopback, real PTB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot import db
from bot.services.invites import NewInvite, issue_invite, new_invite
from bot.services.throttle import invite_throttle
from bot.settings import Settings, get_settings
from bot.telegram.application import TelegramApplication, build_application
from tests.factories import child_pep
from tests.telegram.fake_bot_api import FakeBotApi, run_polling

SECRET = "unit-webhook-secret_0123456789abcdef"


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi().start()
    yield api
    api.stop()


@pytest.fixture
def telegram_settings(
    committed_db: Engine, fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The test database plus Telegram and the engine both pointed at the fake."""
    monkeypatch.setenv("TELEGRAM_TOKEN", fake_api.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("RASA_URL", fake_api.url)
    get_settings.cache_clear()
    invite_throttle.cache_clear()  # a fresh count of refused codes for every test
    return get_settings()


@pytest.fixture
def webhook_settings(telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def client(webhook_settings: Settings) -> Iterator[TestClient]:
    """The web app, receiving Telegram updates at its webhook."""
    from bot.web.app import app

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def polling_app(telegram_settings: Settings) -> AsyncIterator[TelegramApplication]:
    application = build_application(telegram_settings, polling=True)
    async with run_polling(application) as running:
        yield running


def new_pep(meeting: date | str = "2030-01-15", *, first_name: str = "Robin") -> tuple[int, str]:
    """A fresh school, child and PEP in the committed test database: id and invite code."""
    with db.session_scope() as session:
        pep = child_pep(session, first_name=first_name, meeting=meeting)
        return pep.id, issue_invite(session, pep)


def new_link(issued_at: datetime | None = None) -> tuple[int, NewInvite]:
    """A fresh school, child and PEP: id and its invite (code and link token)."""
    with db.session_scope() as session:
        pep = child_pep(session, first_name="Robin")
        return pep.id, new_invite(session, pep, issued_at)
