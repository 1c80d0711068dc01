"""Every endpoint refuses a body over its limit before any handler reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.web.limits import DEFAULT_LIMIT, LIMITS, limit_for
from tests.web.helpers import CSRF, FakeEngine, client, new_pep, started


def test_each_route_has_its_limit() -> None:
    assert limit_for("/chat/api/send") == LIMITS["/chat/api/"]
    assert limit_for("/chat/start") == LIMITS["/chat/start"]
    assert limit_for("/telegram/webhook") == LIMITS["/telegram/webhook"]
    assert limit_for("/health") == DEFAULT_LIMIT
    # The chat's own check (10,000 characters) fits, even in 4-byte characters.
    assert LIMITS["/chat/api/"] > 10_000 * 4 + 100


def test_a_declared_oversized_body_is_refused_unread(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    sent_before = len(fake.sent)
    big = b'{"text": "' + b"a" * (LIMITS["/chat/api/"] + 1) + b'"}'
    response = c.post(
        "/chat/api/send", content=big, headers={**CSRF, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert len(fake.sent) == sent_before
    # Ten thousand emoji are under the byte limit and get the chat's own kind refusal.
    emoji = c.post("/chat/api/send", json={"text": "😀" * 10_001}, headers=CSRF)
    assert emoji.status_code == 413 and emoji.json()["detail"]["error"] == "too_long"
    assert c.post("/chat/api/send", json={"text": "😀" * 10_000}, headers=CSRF).status_code == 200


def test_a_chunked_body_is_cut_off_at_the_limit(web: None, fake: FakeEngine) -> None:
    _pep_id, code = new_pep()
    c = started(code, fake)
    sent_before = len(fake.sent)

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    response = c.post(
        "/chat/api/send", content=chunks(), headers={**CSRF, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert len(fake.sent) == sent_before


@pytest.mark.parametrize("path", ["/chat/start", "/chat/api/finish", "/health"])
def test_small_endpoints_refuse_large_bodies(web: None, path: str) -> None:
    response = client().post(path, content=b"x" * (limit_for(path) + 1))
    assert response.status_code == 413


def test_a_bad_content_length_is_refused(web: None) -> None:
    response = client().post(
        "/chat/start", content=b"code=x", headers={"Content-Length": "not-a-number"}
    )
    assert response.status_code in (400, 413)
