"""Start the engine (Rasa) as PEP Voice runs it: `python -m bot.engine_launch`.

    python -m bot.engine_launch [--model PATH] [--port PORT] [--interface 127.0.0.1]

Run with the app's environment (it reads the settings and derives the tokens from
SECRET_KEY), it prepares the engine and then replaces itself with `rasa run`:

- It writes `<VAR_DIR>/engine/endpoints.yml` (folder 0700, file 0600) from the settings: the
  action server (ACTION_SERVER_URL + /webhook) with the header that carries the action
  server's token, and the tracker store (TRACKER_DATABASE_URL: SQLite beside the app's
  database, or `<db>_tracker` on the same PostgreSQL server, created on first start). The
  token and the database password are written as `${...}` references that Rasa expands from
  its environment when it reads the file, so no secret is on disk. The file is rewritten on
  every start; the repository's endpoints.yml only describes it.
- It gives the engine an environment without the app's settings (no SECRET_KEY, no
  DATABASE_URL, no SMTP or Telegram secrets: the engine needs none of them) and with
  PEP_VOICE_ENGINE_TOKENS (the tokens the app may present: under the current key and under
  each previous key, so app and engine can be restarted one at a time after a rotation),
  PEP_VOICE_ACTION_TOKEN (what the engine presents to the action server: current key),
  telemetry off, and umask 077 (Rasa's files are private).
- `rasa run` listens on loopback, with credentials.yml (the token-checking channel,
  pep_engine.channel) and without Rasa's HTTP API (no --enable-api).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.keys import accepted_tokens, shared_token
from bot.settings import REPO_ROOT, Settings, get_settings

RASA = REPO_ROOT / ".venv" / "engine" / "bin" / "rasa"
CREDENTIALS = REPO_ROOT / "credentials.yml"
DEFAULT_MODEL = REPO_ROOT / "models" / "current.tar.gz"

ENGINE_TOKENS_ENV = "PEP_VOICE_ENGINE_TOKENS"
ACTION_TOKEN_ENV = "PEP_VOICE_ACTION_TOKEN"
TRACKER_PASSWORD_ENV = "PEP_VOICE_TRACKER_DB_PASSWORD"
#: The header the action server checks (bot.action_server).
ACTION_TOKEN_HEADER = "X-PEP-Voice-Token"


class LaunchError(Exception):
    """The engine cannot be started as configured; the message says why."""


def _quoted(value: str) -> str:
    # A JSON string is a YAML double-quoted scalar: Rasa reads it literally, never as "${…}".
    return json.dumps(value)


def _env_ref(name: str) -> str:
    # Unquoted on purpose: Rasa expands ${NAME} only in plain scalars.
    return "${" + name + "}"


def endpoints_yaml(settings: Settings) -> str:
    """The engine's endpoints.yml for these settings (secrets as ${...} references)."""
    action_url = settings.engine.action_server_url.rstrip("/") + "/webhook"
    lines = [
        "# Written by bot.engine_launch on every start; edits here are lost.",
        "action_endpoint:",
        f"  url: {_quoted(action_url)}",
        "  headers:",
        f"    {ACTION_TOKEN_HEADER}: {_env_ref(ACTION_TOKEN_ENV)}",
        "tracker_store:",
        # Rasa's SQL store, with the conversations in progress kept in memory.
        "  type: pep_engine.tracker_store.RecentTrackerSQLStore",
        *("  " + line for line in _tracker_store_lines(settings)),
    ]
    return "\n".join(lines) + "\n"


def _tracker_store_lines(settings: Settings) -> list[str]:
    url = make_url(settings.database.tracker_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise LaunchError("TRACKER_DATABASE_URL must name a SQLite file")
        return ["dialect: sqlite", f"db: {_quoted(str(Path(url.database).resolve()))}"]
    if backend != "postgresql":
        raise LaunchError(f"the tracker store must be SQLite or PostgreSQL, not {backend}")
    if not url.database:
        raise LaunchError("TRACKER_DATABASE_URL names no database")
    # Rasa uses psycopg2 (the engine's driver) whatever driver the app's URL names.
    lines = ["dialect: postgresql", f"db: {_quoted(url.database)}"]
    if url.host:
        lines += [f"url: {_quoted(url.host)}", f"port: {url.port or 5432}"]
    if url.username:
        lines.append(f"username: {_quoted(url.username)}")
    if url.password:
        lines.append(f"password: {_env_ref(TRACKER_PASSWORD_ENV)}")
    login_db = _login_database(settings)
    if login_db:
        # Rasa connects here first and creates the tracker database if it is missing.
        lines.append(f"login_db: {_quoted(login_db)}")
    if url.query:
        lines.append("query:")
        for key, value in sorted(url.query.items()):
            text = value if isinstance(value, str) else ",".join(value)
            lines.append(f"  {_quoted(key)}: {_quoted(text)}")
    return lines


def _login_database(settings: Settings) -> str | None:
    """The app's database, when the tracker database is another one on the same server."""
    app, tracker = make_url(settings.database.url), make_url(settings.database.tracker_url)
    same_server = (app.get_backend_name(), app.host, app.port, app.username) == (
        tracker.get_backend_name(),
        tracker.host,
        tracker.port,
        tracker.username,
    )
    if same_server and app.database and app.database != tracker.database:
        return app.database
    return None


def write_endpoints(settings: Settings) -> Path:
    """Write the endpoints file privately (folder 0700, file 0600); return its path."""
    folder = settings.var_dir / "engine"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / "endpoints.yml"
    partial = folder / f".endpoints.yml.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(endpoints_yaml(settings))
    os.replace(partial, path)
    return path


def engine_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment: `base` without the app's settings, plus what it needs."""
    app_names = Settings.env_names()
    env = {k: v for k, v in base.items() if k.upper() not in app_names}
    env.update(
        {
            ENGINE_TOKENS_ENV: ",".join(accepted_tokens("engine")),
            ACTION_TOKEN_ENV: shared_token("actions"),
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(REPO_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
    )
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    password = make_url(settings.database.tracker_url).password
    if password:
        env[TRACKER_PASSWORD_ENV] = str(password)
    return env


def engine_command(model: Path, interface: str, port: int, endpoints: Path) -> list[str]:
    return [
        str(RASA), "run",
        "--model", str(model),
        "--interface", interface,
        "--port", str(port),
        "--credentials", str(CREDENTIALS),
        "--endpoints", str(endpoints),
    ]  # fmt: skip


def _default_port(settings: Settings) -> int:
    return urlsplit(settings.engine.url).port or 5005


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start the PEP Voice engine (Rasa).")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--port", type=int, help="default: RASA_URL's port (5005)")
    parser.add_argument("--interface", default="127.0.0.1")
    args = parser.parse_args(argv)
    settings = get_settings()  # also sets umask 077 (bot.private_files)
    port = args.port or _default_port(settings)
    model = args.model.resolve()
    if not model.is_file():
        sys.exit(f"error: no trained model at {args.model}: run 'make train'")
    if not RASA.exists():
        sys.exit(f"error: the engine environment is missing ({RASA}): run 'make setup'")
    try:
        endpoints = write_endpoints(settings)
    except LaunchError as error:
        sys.exit(f"error: {error}")
    env = engine_environment(settings, os.environ)
    os.umask(0o077)
    os.chdir(REPO_ROOT)
    sys.stdout.flush()
    os.execve(RASA, engine_command(model, args.interface, port, endpoints), env)


if __name__ == "__main__":
    main()
