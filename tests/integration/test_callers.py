"""Only our own processes talk to the engine and the action server (issue 9).

The engine (pep_engine.channel) takes a message only with the app's token, the action server
a call only with the engine's; both cap what they read. Started through bot.engine_launch,
the engine has telemetry off, keeps what children type out of its log even at DEBUG, and
keeps conversations in the configured tracker store: SQLite beside the stack's store, or
"<db>_tracker" on PostgreSQL.

Besides the shared engine, one more engine is started for this module (once): at DEBUG, with
a previous key in its ring, its tracker store on the local PostgreSQL (SQLite if the server
is down; the PostgreSQL test is then skipped).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
import pytest

from bot.engine_client import ENGINE_WEBHOOK_PATH, engine_headers
from bot.keys import shared_token
from bot.settings import get_settings
from tests.conftest import POSTGRES_SERVER, create_postgres_database, drop_postgres_databases
from tests.integration.stack import (
    ENGINE_START_TIMEOUT,
    SECRET_KEY,
    Stack,
    free_port,
    model_path,
    start_engine,
    wait_until_up,
)

pytestmark = pytest.mark.engine

#: A key the second engine keeps as a previous one: an app not yet restarted after a
#: rotation still presents tokens made with it.
PREVIOUS_KEY = "integration-previous-key-0123456789abcdef"
STRANGER_KEY = "integration-stranger-key-0123456789abcdef"
QUESTION = "What's been going well at school?"
T = TypeVar("T")


def _under_key(key: str, make: Callable[[], T]) -> T:
    """What `make` gives in a process whose SECRET_KEY is `key`."""
    saved = os.environ.get("SECRET_KEY")
    os.environ["SECRET_KEY"] = key
    get_settings.cache_clear()
    try:
        return make()
    finally:
        if saved is None:
            del os.environ["SECRET_KEY"]
        else:
            os.environ["SECRET_KEY"] = saved
        get_settings.cache_clear()


def _headers_under(key: str) -> dict[str, str]:
    """bot.engine_client's header as an app whose SECRET_KEY is `key` would send it."""
    return _under_key(key, engine_headers)


def _post(url: str, headers: dict[str, str], sender: str, text: str) -> httpx.Response:
    return httpx.post(
        url + ENGINE_WEBHOOK_PATH,
        json={"sender": sender, "message": text},
        headers=headers,
        timeout=60,
    )


def _sqlite_events(tracker_db: Path, sender: str) -> int:
    with sqlite3.connect(tracker_db) as con:
        row = con.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()
        return int(row[0])


def _engine_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


# --- The shared engine -----------------------------------------------------------------------


def test_the_engine_takes_a_message_only_with_the_apps_token(stack: Stack) -> None:
    sender = f"callers-{uuid.uuid4().hex}"
    words = "a message from a stranger, lilac heron"
    assert _post(stack.rasa_url, {}, sender, words).status_code == 401
    assert (
        _post(stack.rasa_url, {"Authorization": "Bearer wrong"}, sender, words).status_code == 401
    )
    assert _post(stack.rasa_url, _headers_under(STRANGER_KEY), sender, words).status_code == 401
    assert (
        _post(stack.rasa_url, {"Authorization": "Basic " + "x" * 43}, sender, words).status_code
        == 401
    )
    # Nothing refused reached the conversation store.
    assert _sqlite_events(stack.work / "tracker.db", sender) == 0

    taken = _post(stack.rasa_url, stack.engine_headers(), sender, "hello")
    assert taken.status_code == 200
    assert taken.json(), "the engine answered nothing"
    # The tracker store is the configured one: SQLite beside the stack's store.
    assert _sqlite_events(stack.work / "tracker.db", sender) > 0
    assert "lilac heron" not in (stack.work / "engine.log").read_text(errors="replace")


def test_only_the_apps_channel_is_open(stack: Stack) -> None:
    call = {"sender": "callers", "message": "hello"}
    # Rasa's own REST channel is gone, and its HTTP API (--enable-api) is off.
    assert httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=call).status_code == 404
    assert httpx.get(f"{stack.rasa_url}/conversations/callers/tracker").status_code == 404
    assert httpx.post(f"{stack.rasa_url}/model/parse", json={"text": "hi"}).status_code == 404
    # The engine's own health check stays open (the app's /health asks it).
    assert httpx.get(f"{stack.rasa_url}/").status_code == 200


def test_the_engine_caps_and_checks_the_body(stack: Stack) -> None:
    url = stack.rasa_url + ENGINE_WEBHOOK_PATH
    huge = json.dumps({"sender": "callers-huge", "message": "x" * 70_000})
    headers = {**stack.engine_headers(), "Content-Type": "application/json"}
    assert httpx.post(url, content=huge, headers=headers, timeout=30).status_code == 413
    # Refused unread without the token, whatever the size.
    assert httpx.post(url, content=huge, timeout=30).status_code == 401
    for bad in (b"not json", b"[]", b'{"sender": 1, "message": "hi"}', b'{"sender": "s"}'):
        assert httpx.post(url, content=bad, headers=headers, timeout=30).status_code == 400


def test_the_engine_runs_as_launched(stack: Stack) -> None:
    engine = stack.processes["engine"]
    env = _engine_environ(engine.pid)
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["PEP_VOICE_ENGINE_TOKENS"]
    assert env["PEP_VOICE_ACTION_TOKEN"]
    # None of the app's settings (its key, its database) reach the engine.
    assert not {"SECRET_KEY", "DATABASE_URL", "VAR_DIR", "SMTP_PORT"} & env.keys()
    cmdline = Path(f"/proc/{engine.pid}/cmdline").read_bytes().split(b"\0")
    assert b"--enable-api" not in cmdline
    assert cmdline[cmdline.index(b"--interface") + 1] == b"127.0.0.1"
    status = Path(f"/proc/{engine.pid}/status").read_text()
    assert "Umask:\t0077" in status

    endpoints = stack.work / "engine" / "endpoints.yml"
    assert endpoints.stat().st_mode & 0o777 == 0o600
    assert endpoints.parent.stat().st_mode & 0o777 == 0o700
    written = endpoints.read_text()
    assert "${PEP_VOICE_ACTION_TOKEN}" in written
    assert env["PEP_VOICE_ACTION_TOKEN"] not in written  # no token on disk


# --- The action server -------------------------------------------------------------------------


def _action_token(stack: Stack) -> str:
    stack.use_store()
    return shared_token("actions")


def test_the_action_server_serves_only_the_engine(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.action_port}"
    secret = "a child's words in a forged call, amber otter"
    call = {
        "next_action": "action_link_invite",
        "sender_id": "callers-forged",
        "tracker": {"sender_id": "callers-forged", "slots": {"going_well": secret}},
        "domain": {},
        "version": "3.6.21",
    }
    assert httpx.get(f"{url}/health").status_code == 200  # the app's health check
    for headers in ({}, {"X-PEP-Voice-Token": "wrong"}):
        assert httpx.get(f"{url}/actions", headers=headers).status_code == 403
        assert httpx.post(f"{url}/webhook", json=call, headers=headers).status_code == 403
    stranger = {"X-PEP-Voice-Token": _under_key(STRANGER_KEY, lambda: shared_token("actions"))}
    assert httpx.get(f"{url}/actions", headers=stranger).status_code == 403

    ours = {"X-PEP-Voice-Token": _action_token(stack)}
    assert httpx.get(f"{url}/actions", headers=ours).status_code == 200
    log = (stack.work / "actions.log").read_text(errors="replace")
    assert "refused a call to /webhook" in log
    assert "amber otter" not in log


def test_the_action_server_caps_the_body_and_what_it_inflates_to(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.action_port}/webhook"
    ours = {"X-PEP-Voice-Token": _action_token(stack), "Content-Type": "application/json"}
    too_large = json.dumps({"next_action": "action_link_invite", "pad": "x" * 3_000_000})
    assert httpx.post(url, content=too_large, headers=ours, timeout=30).status_code == 413

    # 64 MB of zeros in a 64 KB deflate body: refused once it inflates past 8 MB.
    bomb = zlib.compress(b'{"pad": "' + b"0" * 64_000_000 + b'"}', 9)
    assert len(bomb) < 100_000
    deflated = {**ours, "Content-Encoding": "deflate"}
    assert httpx.post(url, content=bomb, headers=deflated, timeout=30).status_code == 413
    assert httpx.post(url, content=b"not deflate", headers=deflated).status_code == 400
    gzipped = {**ours, "Content-Encoding": "gzip"}
    assert httpx.post(url, content=bomb, headers=gzipped).status_code == 415

    # A compressed call as Rasa sends one (COMPRESS_ACTION_SERVER_REQUEST=true) is served.
    call = {
        "next_action": "action_link_invite",
        "sender_id": f"callers-{uuid.uuid4().hex}",
        "tracker": {"sender_id": "callers", "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.21",
    }
    reply = httpx.post(url, content=zlib.compress(json.dumps(call).encode()), headers=deflated)
    assert reply.status_code == 200, reply.text


# --- A second engine: DEBUG, a previous key, PostgreSQL -------------------------------------------


@dataclass
class SecondEngine:
    stack: Stack  # talks to the second engine; the store and action server are the stack's
    log: Path
    postgres_db: str | None  # the app's database name on PostgreSQL; None: SQLite
    var_dir: Path


@pytest.fixture(scope="module")
def second_engine(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondEngine]:
    model = model_path()
    work = tmp_path_factory.mktemp("engine2")
    postgres_db = create_postgres_database()
    port = free_port()
    env = {
        **stack.env,
        "VAR_DIR": str(work),
        "RASA_URL": f"http://127.0.0.1:{port}",
        "PREVIOUS_SECRET_KEYS": json.dumps([PREVIOUS_KEY]),
        "LOG_LEVEL": "DEBUG",
    }
    if postgres_db is not None:
        env["DATABASE_URL"] = f"postgresql://postgres@{POSTGRES_SERVER}/{postgres_db}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'unused.db'}"
    process = start_engine("engine2", model, port, env, work)
    try:
        wait_until_up(
            f"http://127.0.0.1:{port}/", process, work / "engine2.log", ENGINE_START_TIMEOUT
        )
        # The same store and key as the stack (what `use_store` points this process at).
        talker = Stack(
            f"http://127.0.0.1:{port}", stack.database_url, stack.env, work, stack.mailbox
        )
        yield SecondEngine(talker, work / "engine2.log", postgres_db, work)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()
        if postgres_db is not None:
            drop_postgres_databases(f"{postgres_db}_tracker", postgres_db)


def test_a_previous_keys_token_is_still_taken(second_engine: SecondEngine) -> None:
    url = second_engine.stack.rasa_url
    sender = f"callers-{uuid.uuid4().hex}"
    assert _post(url, _headers_under(PREVIOUS_KEY), sender, "hello").status_code == 200
    assert _post(url, _headers_under(SECRET_KEY), sender, "hello").status_code == 200
    assert _post(url, _headers_under(STRANGER_KEY), sender, "hello").status_code == 401


def test_the_tracker_is_kept_in_its_own_postgresql_database(second_engine: SecondEngine) -> None:
    if second_engine.postgres_db is None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_SERVER}")
    sender = f"callers-{uuid.uuid4().hex}"
    reply = _post(
        second_engine.stack.rasa_url, second_engine.stack.engine_headers(), sender, "hello"
    )
    assert reply.status_code == 200
    with psycopg.connect(
        f"postgresql://postgres@{POSTGRES_SERVER}/{second_engine.postgres_db}_tracker"
    ) as con:
        kinds = [
            row[0]
            for row in con.execute(
                "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id", (sender,)
            )
        ]
    assert "user" in kinds
    assert not (second_engine.var_dir / "tracker.db").exists()
    written = (second_engine.var_dir / "engine" / "endpoints.yml").read_text()
    assert "dialect: postgresql" in written
    assert f'db: "{second_engine.postgres_db}_tracker"' in written


def test_what_a_child_types_stays_out_of_the_engine_log_even_at_debug(
    stack: Stack, second_engine: SecondEngine
) -> None:
    talker = second_engine.stack
    pep_id, code = stack.new_pep(year_group=5)
    sender = f"callers-{uuid.uuid4().hex}"
    talker.start(sender, code)
    talker.say(sender, "Just me")
    assert talker.texts(sender, "😀 Good")[-1] == QUESTION
    saved = "the purple giraffe mural we painted"
    talker.answer(sender, saved)
    assert stack.answers(pep_id)["going_well"].text == saved  # engine -> action server works

    # A failing turn: the action server is down, so the answer is not saved.
    lost = "my orange walrus story about Mr Tumnus"
    stack.stop_actions()
    try:
        assert talker.say(sender, lost) == []
    finally:
        stack.start_actions()

    log = second_engine.log.read_text(errors="replace")
    assert "processor.message.parse" in log, "the engine did not log at DEBUG"
    assert "[redacted]" in log
    for words in ("purple giraffe", "orange walrus", "Tumnus", code, code.replace("-", "")):
        assert words not in log, f"{words!r} is in the engine's log"
