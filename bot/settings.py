"""Runtime settings, read from environment variables, grouped by concern (database, engine,
web, invites, retention, mail, alerts, scheduler, Telegram)."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.private_files import restrict_new_files

REPO_ROOT = Path(__file__).resolve().parent.parent


class _Group(BaseSettings):
    """One concern's settings, read from its own environment variables (names below)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def env_names(cls) -> set[str]:
        prefix = str(cls.model_config.get("env_prefix") or "")
        return {
            str(field.validation_alias or prefix + name).upper()
            for name, field in cls.model_fields.items()
        }


class DatabaseSettings(_Group):
    # DATABASE_URL. Empty means "SQLite file in var_dir" (Settings fills it in).
    url: str = Field(default="", validation_alias="DATABASE_URL")
    # TRACKER_DATABASE_URL: the engine's conversations (Rasa's tracker store). Empty:
    # var/tracker.db beside a SQLite database, or a database of its own ("<name>_tracker")
    # on the same PostgreSQL server.
    tracker_url: str = Field(default="", validation_alias="TRACKER_DATABASE_URL")


class EngineSettings(_Group):
    url: str = Field(default="http://127.0.0.1:5005", validation_alias="RASA_URL")
    action_server_url: str = Field(
        default="http://127.0.0.1:5055", validation_alias="ACTION_SERVER_URL"
    )


class WebSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="WEB_")

    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="APP_BASE_URL")
    # Trust X-Forwarded-Proto (for the Secure cookie flag) and X-Forwarded-For only behind
    # a proxy (BEHIND_PROXY).
    behind_proxy: bool = Field(default=False, validation_alias="BEHIND_PROXY")
    # WEB_IDLE_MINUTES: a web chat session (and its in-memory transcript) is forgotten after
    # this long unused; its cookie lasts only as long as the browser session.
    idle_minutes: float = Field(default=30, gt=0)


class InviteSettings(_Group):
    model_config = SettingsConfigDict(env_prefix="INVITE_")

    # How long a new invite can be claimed; a child who has started may take longer.
    ttl_days: int = Field(default=14, ge=1)
    # Refused invite attempts allowed per client (an address, a Telegram chat) and in all,
    # per window: room for a group of children behind one school address, each mistyping
    # their code a time or two, and hopeless for guessing (docs/security.md has the sums).
    attempts_per_client: int = Field(default=50, ge=1)
    attempts_global: int = Field(default=300, ge=1)
    attempt_window_minutes: int = Field(default=15, ge=1)
    # RATE_LIMIT_STORAGE_URL: where the throttle counts live: "memory://" (one process) or
    # a redis:// URL (scale-out).
    limits_storage_url: str = Field(default="memory://", validation_alias="RATE_LIMIT_STORAGE_URL")


class RetentionSettings(_Group):
    # Data lifecycle (bot.services.lifecycle): a PEP's data is deleted this long after its
    # meeting; an engine conversation that is linked to no PEP, this long after its last turn.
    days_after_meeting: int = Field(
        default=180, ge=1, validation_alias="RETENTION_DAYS_AFTER_MEETING"
    )
    unlinked_conversation_days: int = Field(
        default=7, ge=1, validation_alias="UNLINKED_CONVERSATION_DAYS"
    )


class MailSettings(_Group):
    """Mail (bot.mail): safeguarding alerts (bot.alerts) and teacher notices. SMTP_*."""

    model_config = SettingsConfigDict(env_prefix="SMTP_")

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = "pep-voice@localhost"
    # "starttls" (port 25 or 587; the server must offer it), "tls" (SMTPS, implicit TLS,
    # usually port 465) or "none": plain text, only for a local test server or relay.
    security: Literal["starttls", "tls", "none"] = "starttls"
    # A CA bundle (PEM) to trust for the server's certificate, e.g. a council's internal CA;
    # it replaces the system store, which is used when this is unset.
    ca_file: Path | None = None
    # Login only over TLS: refused with SMTP_SECURITY=none (see _login_needs_tls).
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=10, gt=0)

    @model_validator(mode="after")
    def _login_needs_tls(self) -> MailSettings:
        if self.username and self.security == "none":
            raise ValueError(PLAIN_LOGIN)
        return self


class AlertSettings(_Group):
    """Safeguarding alerts (bot.alerts). ALERT_*."""

    model_config = SettingsConfigDict(env_prefix="ALERT_")

    # VIRTUAL_SCHOOL_EMAIL: alerted when a school has neither a DSL nor a deputy.
    virtual_school_email: str | None = Field(default=None, validation_alias="VIRTUAL_SCHOOL_EMAIL")
    # The retry policy (bot.alerts.delivery): after the n-th failed attempt, wait the n-th
    # pause (the last repeats), up to ALERT_MAX_ATTEMPTS (JSON list in the env).
    retry_delays: tuple[float, ...] = (1, 5, 30, 120, 300)
    max_attempts: int = Field(default=20, ge=1)
    # More messages from a conversation whose concern was alerted are emailed as one update
    # at most this often (the scheduler reopens the concern for the worker).
    followup_minutes: float = Field(default=60, ge=0)


class SchedulerSettings(_Group):
    """The scheduler (bot.scheduler): how often it looks for alerts due (a DSL must hear
    within seconds), and how often it runs the other periodic jobs."""

    alert_poll_seconds: float = Field(default=2, gt=0, validation_alias="ALERT_POLL_SECONDS")
    interval_seconds: float = Field(
        default=300, gt=0, validation_alias="SCHEDULER_INTERVAL_SECONDS"
    )


class TelegramSettings(_Group):
    """Telegram (bot.telegram). TELEGRAM_*. No token: Telegram is off. A webhook secret
    switches from polling (local runs) to the webhook at POST /telegram/webhook."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    # The Bot API; tests point it at a local fake.
    base_url: str = "https://api.telegram.org/bot"
    # For printing t.me deep links next to invite codes.
    bot_username: str = ""
    # REMINDER_DAYS_BEFORE: `send-reminders` nudges a child this many days before the meeting.
    reminder_days_before: int = Field(default=3, ge=0, validation_alias="REMINDER_DAYS_BEFORE")

    @property
    def enabled(self) -> bool:
        return bool(self.token.get_secret_value())

    @property
    def uses_webhook(self) -> bool:
        return self.enabled and bool(self.webhook_secret.get_secret_value())

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_long_enough(cls, secret: SecretStr) -> SecretStr:
        # Empty: no webhook (polling). Set, it is the only proof a post comes from Telegram.
        value = secret.get_secret_value()
        if value and (len(value) < 32 or not _WEBHOOK_SECRET.fullmatch(value)):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be empty (webhook off) or at least 32 characters "
                "(at most 256) of A-Z a-z 0-9 _ -; make one with: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return secret


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")


class Settings(BaseSettings):
    """Every setting, grouped by concern; each group reads its own environment variables.
    Secrets are `SecretStr`: never in a repr, a log or a traceback."""

    model_config = SettingsConfigDict(extra="ignore")

    # "development" (make run, make test) may keep a generated key in var/; anything else
    # is production and refuses to start without SECRET_KEY.
    environment: Literal["development", "production"] = "production"
    var_dir: Path = REPO_ROOT / "var"
    # bot.keys derives every key from these.
    secret_key: SecretStr = SecretStr("")
    # Retired keys still accepted while what they signed or sealed ages out (JSON list).
    previous_secret_keys: tuple[SecretStr, ...] = ()

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    invites: InviteSettings = Field(default_factory=InviteSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)

    @classmethod
    def env_names(cls) -> set[str]:
        """Every environment variable the app reads (the engine is given none of them)."""
        names = {"ENVIRONMENT", "VAR_DIR", "SECRET_KEY", "PREVIOUS_SECRET_KEYS"}
        for field in cls.model_fields.values():
            group = field.annotation
            if isinstance(group, type) and issubclass(group, _Group):
                names |= group.env_names()
        return names

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        db = self.database
        db.url = _with_psycopg_driver(db.url or f"sqlite:///{self.var_dir / 'pepvoice.db'}")
        db.tracker_url = _with_psycopg_driver(db.tracker_url or _tracker_url(db.url, self.var_dir))
        if not self.secret_key.get_secret_value():
            if self.environment != "development":
                raise ValueError(MISSING_KEY)
            self.secret_key = SecretStr(_read_or_create_secret(self.var_dir / "secret_key"))
        for key in (self.secret_key, *self.previous_secret_keys):
            if len(key.get_secret_value().encode()) < MIN_KEY_BYTES:
                raise ValueError(SHORT_KEY)
        return self


PLAIN_LOGIN = (
    "SMTP_USERNAME is set but SMTP_SECURITY is none: never log in without TLS; "
    "use SMTP_SECURITY=starttls (port 25 or 587) or tls (port 465)"
)
MIN_KEY_BYTES = 32
_NEW_KEY_HINT = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
MISSING_KEY = (
    "SECRET_KEY is not set. Outside development (ENVIRONMENT=development) PEP Voice needs a "
    f"key of at least {MIN_KEY_BYTES} bytes, kept apart from the data; " + _NEW_KEY_HINT
)
SHORT_KEY = f"SECRET_KEY and PREVIOUS_SECRET_KEYS need at least {MIN_KEY_BYTES} bytes; " + (
    _NEW_KEY_HINT
)


def _tracker_url(database_url: str, var_dir: Path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{var_dir / 'tracker.db'}"
    return url.set(database=f"{url.database}_tracker").render_as_string(hide_password=False)


def _with_psycopg_driver(url: str) -> str:
    # Plain postgresql:// would pick psycopg2, which we do not ship.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _read_or_create_secret(path: Path) -> str:
    """Return the key in `path`, creating it (mode 0600) on a fresh machine."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: if two processes start at once, only one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()`.

    The first call also makes every file this process creates private (bot.private_files).
    """
    restrict_new_files()
    return Settings()
