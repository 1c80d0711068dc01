"""Web chat fixtures: the committed test database, no engine (or a fake one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.settings import Settings, get_settings
from bot.web import chat
from bot.web.sessions import store
from tests.integration.stack import free_port
from tests.web.helpers import FakeEngine


@pytest.fixture
def web(
    committed_db: Engine, app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # Nothing listens on this port: the real engine client fails as it would in production.
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    store.clear()
    yield
    store.clear()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(chat, "send_to_engine", fake)
    return fake
