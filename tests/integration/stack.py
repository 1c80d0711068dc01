"""The real stack: Rasa engine + action server on loopback, and the store they write.

The engine loads the model `make test` trained (PEP_VOICE_MODEL, else models/current.tar.gz)
and takes 1-2 minutes to start, so every integration test shares one engine. Each test uses
its own conversation id, so they don't interfere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import db
from bot.engine_client import ENGINE_WEBHOOK_PATH, START_MESSAGE, engine_headers
from bot.models import Answer, Pep, Role
from bot.services.conversation import link_conversation
from bot.services.invites import issue_invite
from bot.settings import get_settings
from tests.factories import child_pep, school
from tests.smtp_server import Inbox

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"
APP_PYTHON = REPO / ".venv" / "app" / "bin" / "python"
SECRET_KEY = "integration-test-secret-0123456789abcdef"
ENGINE_START_TIMEOUT = 300
#: How the bot's check "Are you telling me that someone is hurting you...?" begins.
CHECK_OPENING = "I want to be sure I understand."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_path() -> Path:
    model = Path(os.environ.get("PEP_VOICE_MODEL", REPO / "models" / "current.tar.gz"))
    if not model.exists():
        pytest.skip(f"no trained model at {model}: run 'make train' (make test does it)")
    return model.resolve()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not come up in {timeout} s:\n{log.read_text()[-4000:]}")


@dataclass
class Stack:
    rasa_url: str
    database_url: str
    env: dict[str, str]
    work: Path
    mailbox: Inbox
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    action_port: int = 0
    checks: int = 0  # answers the bot checked as possible disclosures (see `answer`)
    _engine_headers: dict[str, str] = field(default_factory=dict)

    def start_actions(self) -> None:
        self.processes["actions"] = start_process(
            "actions",
            [str(APP_PYTHON), "-m", "bot.action_server", "--port", str(self.action_port)],
            self.env,
            self.work,
        )
        wait_until_up(
            f"http://127.0.0.1:{self.action_port}/health", self.processes["actions"],
            self.work / "actions.log", 60,
        )  # fmt: skip

    def start_scheduler(self) -> None:
        """The scheduler, as the Procfile runs it: its alert worker emails the DSL within
        seconds of a disclosure (ALERT_POLL_SECONDS); its other jobs run once at start."""
        self.processes["scheduler"] = start_process(
            "scheduler", [str(APP_PYTHON), "-m", "bot", "scheduler"], self.env, self.work
        )

    def stop_actions(self) -> None:
        process = self.processes.pop("actions")
        process.terminate()
        process.wait(timeout=20)

    def engine_headers(self) -> dict[str, str]:
        """The app's header for the engine (bot.engine_client), under the stack's key."""
        if not self._engine_headers:
            self.use_store()
            self._engine_headers = engine_headers()
        return self._engine_headers

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        reply = httpx.post(
            self.rasa_url + ENGINE_WEBHOOK_PATH,
            json={"sender": sender, "message": message},
            headers=self.engine_headers(),
            timeout=60,
        )
        reply.raise_for_status()
        return list(reply.json())

    def start(self, sender: str, code: str) -> list[dict[str, Any]]:
        """Open the conversation the way the web chat and Telegram do: the app redeems the
        code (an InviteError if refused), then tells the engine to start."""
        self.use_store()
        link_conversation(code, sender, client="integration")
        return self.say(sender, START_MESSAGE)

    def texts(self, sender: str, message: str) -> list[str]:
        return [m.get("text", "") for m in self.say(sender, message)]

    def answer(self, sender: str, message: str) -> list[dict[str, Any]]:
        """Say an ordinary answer as a child would: if the bot checks whether it was a
        disclosure (the classifier flags about one answer in nine, docs/benchmarks.md),
        say no, as that child would; the answer is then kept. Counts the checks."""
        replies = self.say(sender, message)
        if replies and replies[-1].get("text", "").startswith(CHECK_OPENING):
            self.checks += 1
            replies = self.say(sender, "/deny")
        return replies

    def use_store(self) -> None:
        """Point this process's settings at the stack's store and key, as the servers use."""
        for name in ("DATABASE_URL", "SECRET_KEY", "VAR_DIR", "RASA_URL"):
            os.environ[name] = self.env[name]
        get_settings.cache_clear()
        db.reset_engine()

    def new_pep(self, year_group: int = 5) -> tuple[int, str]:
        """A fresh school (with a DSL and a designated teacher), child and PEP.

        Returns the PEP id and the plaintext invite code.
        """
        self.use_store()
        tag = uuid.uuid4().hex[:8]
        staff = [
            (f"dsl-{tag}@school.example", Role.dsl),
            (f"dt-{tag}@school.example", Role.designated_teacher),
        ]
        with db.session_scope() as session:
            pep = child_pep(session, school(session, staff=staff), year_group=year_group)
            return pep.id, issue_invite(session, pep)

    def pep_status(self, pep_id: int) -> str:
        self.use_store()
        with db.session_scope() as session:
            pep = session.get(Pep, pep_id)
            assert pep is not None
            return str(pep.status)

    def answers(self, pep_id: int) -> dict[str, Answer]:
        self.use_store()
        with db.session_scope() as session:
            rows = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).all()
            session.expunge_all()
            return {row.question_key: row for row in rows}


def start_process(
    name: str, cmd: list[str], env: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    log = logs / f"{name}.log"
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def start_engine(
    name: str, model: Path, port: int, env: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    """Start an engine the way the Procfile does, through bot.engine_launch (which becomes
    `rasa run`): its endpoints, tokens and tracker store come from the settings in `env`."""
    return start_process(
        name,
        [str(APP_PYTHON), "-m", "bot.engine_launch", "--model", str(model), "--port", str(port)],
        env,
        logs,
    )
