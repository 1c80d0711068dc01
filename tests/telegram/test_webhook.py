"""POST /telegram/webhook in the real app (in-process), Telegram faked, engine faked."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import db
from bot.models import ProcessedUpdate
from bot.settings import Settings, get_settings
from bot.telegram.links import claim_update
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from tests.telegram.fake_bot_api import FakeBotApi

SECRET = "unit-webhook-secret"
CHAT = 515151


@pytest.fixture
def client(
    telegram_settings: Settings, fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()
    from bot.web.app import app

    with TestClient(app) as test_client:
        yield test_client


def test_missing_or_wrong_secret_is_forbidden(client: TestClient, fake_api: FakeBotApi) -> None:
    update = fake_api.message_update(CHAT, "hello")
    assert client.post(WEBHOOK_PATH, json=update).status_code == 403
    for wrong in ["", "nope", SECRET + "x", SECRET[:-1]]:
        response = client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: wrong})
        assert response.status_code == 403
    time.sleep(0.3)
    assert fake_api.engine_requests == []


def test_a_redelivered_update_is_acknowledged_and_run_once(
    client: TestClient, fake_api: FakeBotApi
) -> None:
    (hook,) = fake_api.calls_to("setWebhook")
    assert hook.params["secret_token"] == SECRET
    assert hook.params["url"].endswith(WEBHOOK_PATH)
    update = fake_api.message_update(CHAT, "my answer")
    headers = {SECRET_HEADER: SECRET}
    for _ in range(3):
        assert client.post(WEBHOOK_PATH, json=update, headers=headers).status_code == 200
    fake_api.wait_for(lambda: len(fake_api.sent(CHAT)) >= 1, 10)
    time.sleep(0.5)
    assert [r["message"] for r in fake_api.engine_requests] == ["my answer"]
    assert fake_api.sent_texts(CHAT) == ["ok"]


def test_bad_bodies_are_refused(client: TestClient) -> None:
    headers = {SECRET_HEADER: SECRET}
    assert client.post(WEBHOOK_PATH, content=b"not json", headers=headers).status_code == 400
    assert client.post(WEBHOOK_PATH, json={"no": "id"}, headers=headers).status_code == 400


def test_webhook_is_off_without_a_secret(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    from bot.web.app import app

    with TestClient(app) as test_client:
        response = test_client.post(WEBHOOK_PATH, json={"update_id": 1})
    assert response.status_code == 404


def test_claim_update_once(telegram_settings: Settings) -> None:
    assert claim_update(77) is True
    assert claim_update(77) is False
    assert claim_update(78) is True
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 2
