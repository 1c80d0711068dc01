"""pep_engine.channel in the engine's own Python, without a model (tests/engine/channel_probe.py).

The real engine is tested end to end in tests/integration/test_callers.py; here the channel's
refusals and a turn that fails inside Rasa, which the real engine cannot be made to do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"
PROBE = Path(__file__).with_name("channel_probe.py")
WEBHOOK = "/webhooks/app/webhook"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path: Path, tokens: str | None) -> tuple[subprocess.Popen[bytes], str, Path]:
    if not ENGINE_PYTHON.exists():
        pytest.skip("no engine environment: run 'make setup'")
    port, log = _free_port(), tmp_path / f"probe-{tokens is None}.log"
    env = {k: v for k, v in os.environ.items() if k != "PEP_VOICE_ENGINE_TOKENS"}
    env.update({"PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"})
    if tokens is not None:
        env["PEP_VOICE_ENGINE_TOKENS"] = tokens
    process = subprocess.Popen(
        [str(ENGINE_PYTHON), str(PROBE), str(port)],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(f"{url}/webhooks/app/", timeout=1).status_code == 200:
                return process, url, log
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the probe did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    process, url, log = _start(tmp_path_factory.mktemp("probe"), "tok-current, tok-previous")
    yield url, log
    process.terminate()
    process.wait(timeout=20)


def _say(url: str, text: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        url + WEBHOOK, json={"sender": "s1", "message": text}, headers=headers, timeout=30
    )


def test_a_message_is_taken_with_any_accepted_token_only(probe: tuple[str, Path]) -> None:
    url, _ = probe
    assert _say(url, "hello", None).status_code == 401
    assert _say(url, "hello", "tok-wrong").status_code == 401
    assert _say(url, "hello", "tok-current,tok-previous").status_code == 401
    for token in ("tok-current", "tok-previous"):
        reply = _say(url, "hello", token)
        assert reply.status_code == 200
        assert [m["text"] for m in reply.json()] == ["ok"]


def test_a_failed_turn_is_logged_by_type_and_no_text_is_logged(probe: tuple[str, Path]) -> None:
    url, log = probe
    reply = _say(url, "fail: the marmalade penguin told me", "tok-current")
    assert reply.status_code == 200
    assert reply.json() == []
    _say(url, "the velvet tortoise", "tok-current")
    time.sleep(0.5)
    written = log.read_text()
    assert "a message could not be handled: RuntimeError (text withheld)" in written
    assert "processor.message.parse" in written  # the DEBUG lines are there...
    assert "resulted in these events: [redacted]" in written
    assert "marmalade" not in written  # ...without the text
    assert "tortoise" not in written


def test_without_tokens_every_message_is_refused(tmp_path: Path) -> None:
    process, url, log = _start(tmp_path, None)
    try:
        assert _say(url, "hello", "").status_code == 401
        assert _say(url, "hello", "anything").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert log.read_text().count("PEP_VOICE_ENGINE_TOKENS is not set") == 1
