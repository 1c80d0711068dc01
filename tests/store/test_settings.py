import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import REPO_ROOT, Settings, get_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # Every setting, so that one set earlier in the run (e.g. by the integration stack)
    # cannot leak in.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
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
    assert settings.database_url == f"sqlite:///{clean_env / 'pepvoice.db'}"
    assert settings.invite_ttl_days == 14
    assert settings.tracker_database_url == f"sqlite:///{clean_env / 'tracker.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.app_base_url == "http://127.0.0.1:8000"


def test_secret_key_created_once_with_private_mode(clean_env: Path) -> None:
    first = Settings().secret_key
    key_file = clean_env / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert Settings().secret_key == first


def test_secret_key_never_in_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "very-secret-value-of-at-least-32-bytes")
    settings = Settings()
    assert settings.secret_key == "very-secret-value-of-at-least-32-bytes"
    assert "very-secret-value-of-at-least-32-bytes" not in repr(settings)
    assert not (clean_env / "secret_key").exists()


def test_env_overrides_and_postgres_driver(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p%40ss@h:5433/db")
    monkeypatch.setenv("INVITE_TTL_DAYS", "7")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u:p%40ss@h:5433/db"
    # The engine's conversations get a database of their own on the same server.
    assert settings.tracker_database_url == "postgresql+psycopg://u:p%40ss@h:5433/db_tracker"
    assert settings.invite_ttl_days == 7


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
    assert Settings().previous_secret_keys == ("y" * 40,)


def test_with_no_environment_set_the_rules_are_production_s(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server started without ENVIRONMENT never makes itself a key beside the data."""
    monkeypatch.delenv("ENVIRONMENT")
    with pytest.raises(ValidationError, match="SECRET_KEY is not set"):
        Settings()
    assert not (clean_env / "secret_key").exists()
