"""Refused invite attempts are counted, per client and in all, so codes cannot be guessed.

Every way of redeeming a code or link (web form, Telegram, terminal) goes through
`bot.services.conversation`, which asks here first. Only refusals count: a class of thirty
behind one school address, each child typing their own code once, never meets the limit,
while a guesser is stopped after `invite_attempts_per_client` tries a window, and all
guessers together after `invite_attempts_global`. Counts are kept by the `limits` package
in memory (one process) or in Redis (`RATE_LIMIT_STORAGE_URL=redis://...`), shared by
every process. Clients are counted under a keyed hash, so no address is stored.
"""

from __future__ import annotations

from functools import lru_cache

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.security import keyed_hash
from bot.settings import get_settings

_NAMESPACE = "pep-voice-invite"
_GLOBAL = "all"


class AttemptThrottle:
    def __init__(self, storage: Storage, per_client: int, overall: int, minutes: int) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._storage = storage
        self._per_client: RateLimitItem = RateLimitItemPerMinute(
            per_client, minutes, namespace=_NAMESPACE
        )
        self._overall: RateLimitItem = RateLimitItemPerMinute(
            overall, minutes, namespace=_NAMESPACE
        )
        self.minutes = minutes

    def allowed(self, client: str) -> bool:
        """Whether `client` may try a code now (tried before the code is even looked up)."""
        return self._limiter.test(self._per_client, _client_key(client)) and self._limiter.test(
            self._overall, _GLOBAL
        )

    def refused(self, client: str) -> None:
        """Count one refused attempt against the client and against everyone."""
        self._limiter.hit(self._per_client, _client_key(client))
        self._limiter.hit(self._overall, _GLOBAL)

    def reset(self) -> None:
        self._storage.reset()


def _client_key(client: str) -> str:
    return keyed_hash("throttle:" + client)[:32]


@lru_cache(maxsize=1)
def invite_throttle() -> AttemptThrottle:
    settings = get_settings()
    storage = storage_from_string(settings.invites.limits_storage_url)
    if not isinstance(storage, Storage):  # an async storage URL ("async+redis://")
        storage = MemoryStorage()
    return AttemptThrottle(
        storage,
        settings.invites.attempts_per_client,
        settings.invites.attempts_global,
        settings.invites.attempt_window_minutes,
    )
