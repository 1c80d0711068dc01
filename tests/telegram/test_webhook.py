"""POST /telegram/webhook in the real app (in-process), Telegram faked, engine faked."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from bot import db
from bot.models import ProcessedUpdate, utcnow
from bot.services.telegram_updates import (
    KEEP_UPDATE_IDS,
    STALE_CLAIM,
    UpdateClaim,
    claim_update,
    finish_update,
    release_update,
)
from bot.settings import Settings, get_settings
from bot.telegram.webhook import (
    MAX_UPDATE_BYTES,
    SECRET_HEADER,
    WEBHOOK_PATH,
    router,
    telegram_lifespan,
)
from tests.telegram.conftest import SECRET
from tests.telegram.fake_bot_api import FakeBotApi

CHAT = 515151
HEADERS = {SECRET_HEADER: SECRET}


def engine_messages(api: FakeBotApi) -> list[str]:
    return [r["message"] for r in api.engine_requests]


def processed(update_id: int) -> ProcessedUpdate | None:
    with db.session_scope() as session:
        row = session.get(ProcessedUpdate, update_id)
        session.expunge_all()
        return row


@pytest.mark.parametrize("length", [1, 16, 31])
def test_a_webhook_secret_shorter_than_32_is_refused(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s" * length)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()


@pytest.mark.parametrize("secret", ["", "s" * 32, SECRET])
def test_an_empty_or_long_webhook_secret_is_accepted(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
    assert Settings().telegram.webhook_secret.get_secret_value() == secret


def test_missing_or_wrong_secret_is_forbidden(client: TestClient, fake_api: FakeBotApi) -> None:
    update = fake_api.message_update(CHAT, "hello")
    assert client.post(WEBHOOK_PATH, json=update).status_code == 403
    for wrong in ["", "nope", SECRET + "x", SECRET[:-1]]:
        response = client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: wrong})
        assert response.status_code == 403
    assert fake_api.engine_requests == []
    assert processed(update["update_id"]) is None


def test_an_update_is_processed_before_the_answer_and_a_redelivery_is_not_run(
    client: TestClient, fake_api: FakeBotApi
) -> None:
    (hook,) = fake_api.calls_to("setWebhook")
    assert hook.params["secret_token"] == SECRET
    assert hook.params["url"].endswith(WEBHOOK_PATH)
    update = fake_api.message_update(CHAT, "my answer")
    assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 200
    # Answered only once processed: the reply has already gone out.
    assert engine_messages(fake_api) == ["my answer"]
    assert fake_api.sent_texts(CHAT) == ["ok"]
    row = processed(update["update_id"])
    assert row is not None and row.processed_at is not None and row.claimed_at is None
    for _ in range(2):
        assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 200
    time.sleep(0.3)
    assert engine_messages(fake_api) == ["my answer"]
    assert fake_api.sent_texts(CHAT) == ["ok"]


def test_an_update_whose_processing_fails_gets_500_and_runs_again_on_redelivery(
    client: TestClient, fake_api: FakeBotApi
) -> None:
    update = fake_api.message_update(CHAT, "my answer")
    fake_api.fail_methods["sendMessage"] = (500, "Internal Server Error")
    assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 500
    assert engine_messages(fake_api) == ["my answer"]
    assert processed(update["update_id"]) is None  # not marked: the claim was released

    del fake_api.fail_methods["sendMessage"]
    assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 200
    assert engine_messages(fake_api) == ["my answer", "my answer"]  # run again
    assert fake_api.sent_texts(CHAT) == ["ok"]
    assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 200
    assert engine_messages(fake_api) == ["my answer", "my answer"]  # and not a third time


def test_two_deliveries_at_once_run_the_update_once(
    client: TestClient, fake_api: FakeBotApi
) -> None:
    def slow_engine(sender: str, message: str) -> list[dict[str, Any]]:
        time.sleep(1.5)
        return [{"recipient_id": sender, "text": "ok"}]

    fake_api.engine_reply = slow_engine
    update = fake_api.message_update(CHAT, "my answer")
    statuses: list[int] = []

    def deliver() -> None:
        statuses.append(client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join()
    # The second found it in progress: "try again later", not run, not acknowledged.
    assert sorted(statuses) == [200, 503]
    assert engine_messages(fake_api) == ["my answer"]
    assert client.post(WEBHOOK_PATH, json=update, headers=HEADERS).status_code == 200
    assert engine_messages(fake_api) == ["my answer"]


def test_bad_bodies_are_refused(client: TestClient) -> None:
    assert client.post(WEBHOOK_PATH, content=b"not json", headers=HEADERS).status_code == 400
    assert client.post(WEBHOOK_PATH, content=b"null", headers=HEADERS).status_code == 400
    assert client.post(WEBHOOK_PATH, json={"no": "id"}, headers=HEADERS).status_code == 400


def test_a_body_over_the_cap_is_refused_before_it_is_read(
    webhook_settings: Settings, fake_api: FakeBotApi
) -> None:
    """The router's own cap (the web app's size middleware has the same limit in front)."""
    bare = FastAPI(lifespan=telegram_lifespan)
    bare.include_router(router)
    big = b'{"update_id": 1, "x": "' + b"x" * MAX_UPDATE_BYTES + b'"}'
    with TestClient(bare) as test_client:
        declared = test_client.post(WEBHOOK_PATH, content=big, headers=HEADERS)
        chunks = iter([big[:1000], big[1000:]])  # no Content-Length: counted as it comes
        chunked = test_client.post(WEBHOOK_PATH, content=chunks, headers=HEADERS)
    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert processed(1) is None


def test_webhook_is_off_without_a_secret(
    telegram_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    from bot.web.app import app

    with TestClient(app) as test_client:
        response = test_client.post(WEBHOOK_PATH, json={"update_id": 1})
    assert response.status_code == 404


def test_update_claims(telegram_settings: Settings) -> None:
    t0 = utcnow()
    assert claim_update(77, t0) is UpdateClaim.run
    assert claim_update(77, t0 + timedelta(minutes=1)) is UpdateClaim.busy  # in progress
    # Its process died: after STALE_CLAIM a redelivery takes the claim over.
    taken_at = t0 + STALE_CLAIM + timedelta(seconds=1)
    assert claim_update(77, taken_at) is UpdateClaim.run
    release_update(77, t0)  # the first delivery cannot release the claim it lost
    assert claim_update(77, taken_at + timedelta(seconds=1)) is UpdateClaim.busy
    release_update(77, taken_at)  # processing failed: free for the redelivery
    assert claim_update(77, taken_at + timedelta(seconds=2)) is UpdateClaim.run
    finish_update(77)
    assert claim_update(77, taken_at + STALE_CLAIM * 3) is UpdateClaim.done
    assert claim_update(78, t0) is UpdateClaim.run


def test_old_update_ids_are_pruned(telegram_settings: Settings) -> None:
    old = utcnow() - KEEP_UPDATE_IDS - timedelta(hours=1)
    assert claim_update(1, old) is UpdateClaim.run
    finish_update(1, old)
    assert claim_update(2, old) is UpdateClaim.run  # abandoned in progress
    assert claim_update(500, utcnow()) is UpdateClaim.run  # every 500th claim prunes
    with db.session_scope() as session:
        assert session.scalars(select(ProcessedUpdate.update_id)).all() == [500]
