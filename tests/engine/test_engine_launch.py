"""bot.engine_launch: the engine's endpoints file and environment, from the settings.

That Rasa reads the file as meant (the header, the tracker store, the ${...} references) is
tested with the real engine in tests/integration/test_callers.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine_launch import (
    ACTION_TOKEN_ENV,
    ENGINE_TOKENS_ENV,
    TRACKER_PASSWORD_ENV,
    LaunchError,
    endpoints_yaml,
    engine_command,
    engine_environment,
    write_endpoints,
)
from bot.keys import accepted_tokens, shared_token
from bot.settings import Settings, get_settings

KEY = "engine-launch-test-key-0123456789abcdef"
OLD_KEY = "engine-launch-old-key-0123456789abcdef"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", json.dumps([OLD_KEY]))
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5999")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_sqlite_endpoints_name_the_action_server_and_the_tracker_beside_the_store(
    settings: Settings,
) -> None:
    text = endpoints_yaml(settings)
    assert 'url: "http://127.0.0.1:5999/webhook"' in text
    assert "X-PEP-Voice-Token: ${PEP_VOICE_ACTION_TOKEN}" in text
    assert "dialect: sqlite" in text
    assert f'db: "{settings.var_dir.resolve() / "tracker.db"}"' in text
    assert shared_token("actions") not in text


def test_postgresql_endpoints_use_the_tracker_database_and_a_password_reference(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://pep:pa%24%24 word@db.example:6543/pepvoice")
    get_settings.cache_clear()
    settings = get_settings()
    text = endpoints_yaml(settings)
    for line in (
        "dialect: postgresql",
        'db: "pepvoice_tracker"',
        'url: "db.example"',
        "port: 6543",
        'username: "pep"',
        "password: ${PEP_VOICE_TRACKER_DB_PASSWORD}",
        'login_db: "pepvoice"',
    ):
        assert line in text
    assert "pa$$" not in text
    env = engine_environment(settings, {})
    assert env[TRACKER_PASSWORD_ENV] == "pa$$ word"


def test_an_unusable_tracker_store_is_refused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "mysql://u@h/db")
    get_settings.cache_clear()
    with pytest.raises(LaunchError):
        endpoints_yaml(get_settings())


def test_the_engine_gets_its_tokens_and_none_of_the_apps_settings(settings: Settings) -> None:
    base = {
        "PATH": "/usr/bin",
        "LOG_LEVEL": "INFO",
        "SECRET_KEY": KEY,
        "secret_key": KEY,
        "PREVIOUS_SECRET_KEYS": "[]",
        "DATABASE_URL": "sqlite:///x",
        "SMTP_PASSWORD": "p",
        "TELEGRAM_TOKEN": "t",
    }
    env = engine_environment(settings, base)
    assert env["PATH"] == "/usr/bin" and env["LOG_LEVEL"] == "INFO"
    assert not {"SECRET_KEY", "secret_key", "PREVIOUS_SECRET_KEYS", "DATABASE_URL"} & env.keys()
    assert not {"SMTP_PASSWORD", "TELEGRAM_TOKEN"} & env.keys()
    # Tokens under the current and the previous key; the action token under the current one.
    assert env[ENGINE_TOKENS_ENV].split(",") == accepted_tokens("engine")
    assert len(accepted_tokens("engine")) == 2
    assert env[ACTION_TOKEN_ENV] == shared_token("actions")
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_the_endpoints_file_is_private(settings: Settings) -> None:
    path = write_endpoints(settings)
    assert path == settings.var_dir / "engine" / "endpoints.yml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["endpoints.yml"]


def test_the_engine_runs_on_loopback_without_the_http_api(tmp_path: Path) -> None:
    cmd = engine_command(tmp_path / "m.tar.gz", "127.0.0.1", 5005, tmp_path / "e.yml")
    assert cmd[1] == "run"
    assert "--enable-api" not in cmd
    assert cmd[cmd.index("--interface") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--credentials") + 1].endswith("credentials.yml")
