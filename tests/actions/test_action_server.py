"""The action server as it really runs: loopback only, and no tracker echoed on errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "a child's words that must never be echoed"
KEY = "action-server-test-key-0123456789abcdef"
OLD_KEY = "action-server-old-key-0123456789abcdef"


def _token(key: str) -> dict[str, str]:
    """The header the engine sends (bot.engine_launch), for a deployment keyed with `key`."""
    code = (
        "import sys; from bot.keys import shared_token; sys.stdout.write(shared_token('actions'))"
    )
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": key}
    token = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    return {"X-PEP-Voice-Token": token}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    var = tmp_path_factory.mktemp("var")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(port)],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "VAR_DIR": str(var),
            "SECRET_KEY": KEY,
            "PREVIOUS_SECRET_KEYS": f'["{OLD_KEY}"]',
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_lists_the_project_actions(action_server: str) -> None:
    names = {a["name"] for a in httpx.get(f"{action_server}/actions", headers=_token(KEY)).json()}
    assert {"action_link_invite", "validate_reflection_form", "action_ask_hard"} <= names
    assert "action_ask_" not in names  # the abstract base is not an action


def test_a_failing_call_does_not_echo_the_tracker(action_server: str) -> None:
    # A message text that is not a string makes the form's validation raise.
    call = {
        "next_action": "validate_reflection_form",
        "sender_id": "x",
        "tracker": {
            "sender_id": "x",
            "slots": {"going_well": SECRET},
            "latest_message": {"text": 12345},
        },
        "domain": {},
        "version": "3.6.21",
    }
    reply = httpx.post(f"{action_server}/webhook", json=call, headers=_token(KEY))
    assert reply.status_code == 500
    assert SECRET not in reply.text
    assert "request_body" not in reply.text


def test_takes_the_token_of_a_previous_key_and_no_other(action_server: str) -> None:
    # Restarted on a new key first, the action server still serves an engine on the old one.
    assert httpx.get(f"{action_server}/actions", headers=_token(OLD_KEY)).status_code == 200
    stranger = _token("a-key-this-deployment-never-had-0123456789")
    assert httpx.get(f"{action_server}/actions", headers=stranger).status_code == 403
    assert httpx.get(f"{action_server}/actions").status_code == 403


def test_listens_on_loopback_only(action_server: str) -> None:
    port = int(action_server.rsplit(":", 1)[1])
    own = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    outward = next((a for a in own if "." in a and not a.startswith("127.")), None)
    if outward is None:
        pytest.skip("this machine has no non-loopback IPv4 address of its own to try")
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect((outward, port))
