import stat
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT, Settings, get_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # Every setting, so that one set earlier in the run (e.g. by the integration stack)
    # cannot leak in.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def test_repo_root_is_parent_of_package() -> None:
    assert (REPO_ROOT / "bot" / "settings.py").is_file()
    assert Settings.model_fields["var_dir"].default == REPO_ROOT / "var"


def test_defaults_work_with_no_configuration(clean_env: Path) -> None:
    settings = Settings()
    assert settings.database_url == f"sqlite:///{clean_env / 'pepvoice.db'}"
    assert settings.invite_ttl_days == 60
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.app_base_url == "http://127.0.0.1:8000"


def test_secret_key_created_once_with_private_mode(clean_env: Path) -> None:
    first = Settings().secret_key
    key_file = clean_env / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert Settings().secret_key == first


def test_secret_key_never_in_repr(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "very-secret-value")
    settings = Settings()
    assert settings.secret_key == "very-secret-value"
    assert "very-secret-value" not in repr(settings)
    assert not (clean_env / "secret_key").exists()


def test_env_overrides_and_postgres_driver(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("INVITE_TTL_DAYS", "7")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.invite_ttl_days == 7


def test_get_settings_is_cached_and_clearable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "one")
    assert get_settings() is get_settings()
    monkeypatch.setenv("SECRET_KEY", "two")
    assert get_settings().secret_key == "one"
    get_settings.cache_clear()
    assert get_settings().secret_key == "two"
