"""Runtime settings, read from environment variables (no prefix)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.private_files import restrict_new_files

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # "development" (make run, make test) may keep a generated key in var/; anything else
    # is production and refuses to start without SECRET_KEY.
    environment: Literal["development", "production"] = "production"
    var_dir: Path = REPO_ROOT / "var"
    # Empty means "SQLite file in var_dir", filled in by _fill_defaults.
    database_url: str = ""
    # The engine's conversations (Rasa's tracker store). Empty: var/tracker.db beside a
    # SQLite DATABASE_URL, or a database of its own ("<name>_tracker") on the same
    # PostgreSQL server.
    tracker_database_url: str = ""
    # Kept out of repr so the key never lands in a log or traceback (bot.keys uses them).
    secret_key: str = Field(default="", repr=False)
    # Retired keys still accepted while what they signed or sealed ages out (JSON list).
    previous_secret_keys: tuple[str, ...] = Field(default=(), repr=False)
    # How long a new invite can be claimed; a child who has started may take longer.
    invite_ttl_days: int = Field(default=14, ge=1)
    # Refused invite attempts allowed per client (an address, a Telegram chat) and in all,
    # per window: room for a group of children behind one school address, each mistyping
    # their code a time or two, and hopeless for guessing (docs/security.md has the sums).
    invite_attempts_per_client: int = Field(default=50, ge=1)
    invite_attempts_global: int = Field(default=300, ge=1)
    invite_attempt_window_minutes: int = Field(default=15, ge=1)
    # Throttle counts live here: "memory://" (one process) or a redis:// URL (scale-out).
    rate_limit_storage_url: str = "memory://"
    # Data lifecycle (bot.services.lifecycle): a PEP's data is deleted this long after its
    # meeting; an engine conversation that is linked to no PEP, this long after its last turn.
    retention_days_after_meeting: int = Field(default=180, ge=1)
    unlinked_conversation_days: int = Field(default=7, ge=1)
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    app_base_url: str = "http://127.0.0.1:8000"
    # Web chat: trust X-Forwarded-Proto (for the Secure cookie flag) only behind a proxy.
    behind_proxy: bool = False
    # A web chat session (and its in-memory transcript) is forgotten after this long unused;
    # its cookie lasts only as long as the browser session. The child's code starts it again.
    web_idle_minutes: float = Field(default=30, gt=0)

    # Mail (bot.mail): safeguarding alerts (bot.alerts) and teacher notices.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "pep-voice@localhost"
    # "starttls" (port 25 or 587; the server must offer it), "tls" (SMTPS, implicit TLS,
    # usually port 465) or "none": plain text, only for a local test server or relay.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # A CA bundle (PEM) to trust for the server's certificate, e.g. a council's internal CA;
    # it replaces the system store, which is used when this is unset.
    smtp_ca_file: Path | None = None
    # Login only over TLS: refused with SMTP_SECURITY=none (see _mail_login_needs_tls).
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    # Alerted when a school has neither a DSL nor virtual-school staff.
    virtual_school_email: str | None = None
    # The alert retry policy (bot.alerts.delivery): after the n-th failed attempt, wait the
    # n-th pause (the last repeats), up to ALERT_MAX_ATTEMPTS (JSON list in the env).
    alert_retry_delays: tuple[float, ...] = (1, 5, 30, 120, 300)
    # The delivery worker stops retrying a concern after this many attempts.
    alert_max_attempts: int = Field(default=20, ge=1)
    # More messages from a conversation whose concern was alerted are emailed as one update
    # at most this often (the scheduler reopens the concern for the worker).
    alert_followup_minutes: float = Field(default=60, ge=0)
    # The scheduler (bot.scheduler): how often it looks for alerts due (a DSL must hear within
    # seconds), and how often it runs the other periodic jobs.
    alert_poll_seconds: float = Field(default=2, gt=0)
    scheduler_interval_seconds: float = Field(default=300, gt=0)

    # Telegram (bot.telegram). No token: Telegram is off. A webhook secret switches from
    # polling (local runs) to the webhook at POST /telegram/webhook (production).
    telegram_token: str = Field(default="", repr=False)
    telegram_webhook_secret: str = Field(default="", repr=False, pattern=r"^[A-Za-z0-9_-]{0,256}$")
    # The Bot API; tests point it at a local fake.
    telegram_base_url: str = "https://api.telegram.org/bot"
    # For printing t.me deep links next to invite codes.
    telegram_bot_username: str = ""
    # `send-reminders` nudges a child on Telegram this many days before the meeting.
    reminder_days_before: int = Field(default=3, ge=0)

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret_long_enough(cls, secret: str) -> str:
        # Empty: no webhook (polling). Set, it is the only proof a post comes from Telegram.
        if secret and len(secret) < 32:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be empty (webhook off) or at least 32 characters "
                "of A-Z a-z 0-9 _ -; make one with: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return secret

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'pepvoice.db'}"
        self.database_url = _with_psycopg_driver(self.database_url)
        if not self.tracker_database_url:
            self.tracker_database_url = _tracker_url(self.database_url, self.var_dir)
        self.tracker_database_url = _with_psycopg_driver(self.tracker_database_url)
        if not self.secret_key:
            if self.environment != "development":
                raise ValueError(MISSING_KEY)
            self.secret_key = _read_or_create_secret(self.var_dir / "secret_key")
        for key in (self.secret_key, *self.previous_secret_keys):
            if len(key.encode()) < MIN_KEY_BYTES:
                raise ValueError(SHORT_KEY)
        return self

    @model_validator(mode="after")
    def _mail_login_needs_tls(self) -> Settings:
        if self.smtp_username and self.smtp_security == "none":
            raise ValueError(PLAIN_LOGIN)
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
