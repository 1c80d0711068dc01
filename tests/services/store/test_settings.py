import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import REPO_ROOT, Settings, get_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # Every setting, so that one set earlier in the run (e.g. by the integration stack)
    # cannot leak in.
    for name in Settings.env_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def test_repo_root_is_parent_of_package() -> None:
    assert (REPO_ROOT / "bot" / "settings.py").is_file()
    assert Settings.model_fields["var_dir"].default == REPO_ROOT / "var"


def test_defaults_work_with_no_configuration(clean_env: Path) -> None:
    settings = Settings()
    assert settings.database.url == f"sqlite:///{clean_env / 'pepvoice.db'}"
    assert settings.invites.ttl_days == 14
    assert settings.database.tracker_url == f"sqlite:///{clean_env / 'tracker.db'}"
    assert settings.engine.url == "http://127.0.0.1:5005"
    assert settings.web.base_url == "http://127.0.0.1:8000"


def test_secret_key_created_once_with_private_mode(clean_env: Path) -> None:
    first = Settings().secret_key.get_secret_value()
    key_file = clean_env / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert Settings().secret_key.get_secret_value() == first


def test_secret_key_never_in_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "very-secret-value-of-at-least-32-bytes")
    settings = Settings()
    assert settings.secret_key.get_secret_value() == "very-secret-value-of-at-least-32-bytes"
    assert "very-secret-value-of-at-least-32-bytes" not in repr(settings)
    assert not (clean_env / "secret_key").exists()


def test_env_overrides_and_postgres_driver(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p%40ss@h:5433/db")
    monkeypatch.setenv("INVITE_TTL_DAYS", "7")
    settings = Settings()
    assert settings.database.url == "postgresql+psycopg://u:p%40ss@h:5433/db"
    # The engine's conversations get a database of their own on the same server.
    assert settings.database.tracker_url == "postgresql+psycopg://u:p%40ss@h:5433/db_tracker"
    assert settings.invites.ttl_days == 7


def test_production_needs_a_secret_key_apart_from_the_data(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="SECRET_KEY is not set"):
        Settings()
    assert not (clean_env / "secret_key").exists()  # no silent per-machine key
    monkeypatch.setenv("SECRET_KEY", "x" * 31)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings()
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", '["too short"]')
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings()
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", '["' + "y" * 40 + '"]')
    assert [k.get_secret_value() for k in Settings().previous_secret_keys] == ["y" * 40]


def test_with_no_environment_set_the_rules_are_production_s(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server started without ENVIRONMENT never makes itself a key beside the data."""
    monkeypatch.delenv("ENVIRONMENT")
    with pytest.raises(ValidationError, match="SECRET_KEY is not set"):
        Settings()
    assert not (clean_env / "secret_key").exists()


def test_secrets_never_show_in_a_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "SECRET_KEY": "k" * 40,
        "SMTP_PASSWORD": "smtp-password-123",
        "TELEGRAM_TOKEN": "123456:telegram-token",
        "TELEGRAM_WEBHOOK_SECRET": "w" * 40,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    shown = repr(settings) + str(settings)
    assert not [value for value in secrets.values() if value in shown]
    assert settings.telegram.uses_webhook and settings.mail.password is not None
    assert settings.mail.password.get_secret_value() == "smtp-password-123"


def test_each_group_reads_its_own_variables(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_HOST", "mail.council.example")
    monkeypatch.setenv("INVITE_TTL_DAYS", "21")
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("APP_BASE_URL", "https://pep.example")
    monkeypatch.setenv("ALERT_POLL_SECONDS", "0.5")
    settings = Settings()
    assert settings.mail.host == "mail.council.example"
    assert settings.invites.ttl_days == 21
    assert settings.invites.limits_storage_url == "redis://127.0.0.1:6379/0"
    assert settings.web.base_url == "https://pep.example"
    assert settings.scheduler.alert_poll_seconds == 0.5
    assert not settings.telegram.enabled  # no token: Telegram is off
    assert {"SMTP_HOST", "INVITE_TTL_DAYS", "TELEGRAM_TOKEN"} <= Settings.env_names()
