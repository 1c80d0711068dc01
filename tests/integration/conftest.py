"""Start the real stack once per test run: every integration test shares one engine.

The engine loads the model `make test` trained and takes 1-2 minutes to start. Each test uses
its own conversation id, so tests don't interfere.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from bot import db
from bot.settings import get_settings
from tests.integration.stack import (
    APP_PYTHON,
    ENGINE_PYTHON,
    ENGINE_START_TIMEOUT,
    REPO,
    SECRET_KEY,
    Stack,
    free_port,
    model_path,
    start_engine,
    start_process,
    wait_until_up,
)
from tests.smtp_server import SmtpServer


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = model_path()
    if not ENGINE_PYTHON.exists():
        pytest.fail("the engine environment is missing: run 'make setup'")
    work = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{work / 'pepvoice.db'}"
    db.migrate(database_url)
    engine_port, action_port = free_port(), free_port()
    smtp = SmtpServer(free_port())
    smtp.start()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "VAR_DIR": str(work),
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_URL": f"http://127.0.0.1:{engine_port}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
    }
    stack = Stack(f"http://127.0.0.1:{engine_port}", database_url, env, work, smtp.inbox)
    stack.action_port = action_port
    stack.start_actions()
    stack.start_scheduler()  # the DSL alerts
    # Through the launcher, as the Procfile does: endpoints (var/engine/endpoints.yml, the
    # tracker in work/tracker.db), tokens and the engine's environment come from `env`.
    stack.processes["engine"] = start_engine("engine", model, engine_port, env, work)
    try:
        wait_until_up(
            f"{stack.rasa_url}/", stack.processes["engine"], work / "engine.log",
            ENGINE_START_TIMEOUT,
        )  # fmt: skip
        yield stack
    finally:
        for process in stack.processes.values():
            process.terminate()
        for process in stack.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()


@pytest.fixture(scope="session")
def app_url(stack: Stack) -> Iterator[str]:
    """The web app (uvicorn) in front of the shared engine: its base URL."""
    port = free_port()
    process = start_process(
        "app",
        [
            str(APP_PYTHON), "-m", "uvicorn", "bot.web.app:app",
            "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers",
        ],
        {**stack.env, "APP_BASE_URL": f"http://127.0.0.1:{port}"},
        stack.work,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", process, stack.work / "app.log", 60)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    """Stack.use_store points this process at the stack; undo that after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    db.reset_engine()
