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
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(var), "SECRET_KEY": "k"},
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
    names = {a["name"] for a in httpx.get(f"{action_server}/actions").json()}
    assert {"action_link_invite", "validate_reflection_form", "action_ask_hard"} <= names
    assert "action_ask_" not in names  # the abstract base is not an action


def test_a_failing_call_does_not_echo_the_tracker(action_server: str) -> None:
    # A message text that is not a string makes the action raise.
    call = {
        "next_action": "action_link_invite",
        "sender_id": "x",
        "tracker": {
            "sender_id": "x",
            "slots": {"going_well": SECRET},
            "latest_message": {"text": 12345},
        },
        "domain": {},
        "version": "3.6.21",
    }
    reply = httpx.post(f"{action_server}/webhook", json=call)
    assert reply.status_code == 500
    assert SECRET not in reply.text
    assert "request_body" not in reply.text


def test_listens_on_loopback_only(action_server: str) -> None:
    port = int(action_server.rsplit(":", 1)[1])
    own = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    outward = next((a for a in own if "." in a and not a.startswith("127.")), None)
    if outward is None:
        pytest.skip("this machine has no non-loopback IPv4 address of its own to try")
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect((outward, port))
