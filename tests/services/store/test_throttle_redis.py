"""The invite throttle's counts shared through Redis (RATE_LIMIT_STORAGE_URL=redis://...), as
several app processes share them: refusals counted by one are met by the other. Uses the local
Redis server (127.0.0.1:6379, database 15); skipped, saying so, where none runs."""

from __future__ import annotations

import uuid

import pytest
import redis
from limits.storage import Storage, storage_from_string

from bot.services.throttle import AttemptThrottle
from bot.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def _storage() -> Storage:
    storage = storage_from_string(REDIS_URL)
    assert isinstance(storage, Storage)
    try:
        if not storage.check():
            pytest.skip(f"no Redis server answers at {REDIS_URL}")
    except Exception as exc:  # the client raises its own connection errors
        pytest.skip(f"no Redis server answers at {REDIS_URL} ({type(exc).__name__})")
    return storage


def test_two_processes_share_the_refusal_counts(app_settings: Settings) -> None:
    # Two storages, two throttles: what two app processes would each build from the URL.
    first = AttemptThrottle(_storage(), per_client=3, overall=10_000, minutes=15)
    second = AttemptThrottle(_storage(), per_client=3, overall=10_000, minutes=15)
    guesser, classmate = f"guesser-{uuid.uuid4().hex}", f"classmate-{uuid.uuid4().hex}"

    first.refused(guesser)
    second.refused(guesser)
    assert first.allowed(guesser) and second.allowed(guesser)
    first.refused(guesser)
    # The third refusal, counted in one process, stops the guesser in both.
    assert not first.allowed(guesser) and not second.allowed(guesser)
    assert first.allowed(classmate) and second.allowed(classmate)


def test_the_keys_in_redis_hold_no_client_address(app_settings: Settings) -> None:
    storage = _storage()
    throttle = AttemptThrottle(storage, per_client=3, overall=10_000, minutes=15)
    address = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:8]}"
    throttle.refused(address)
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in client.scan_iter("*pep-voice-invite*")]
    assert keys, "the refusal was not counted in Redis"
    assert not [k for k in keys if address in k]
