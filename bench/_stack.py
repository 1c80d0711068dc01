"""A throw-away PEP Voice stack for benchmarks: engine, action server and web app on free
loopback ports, with a fresh SQLite store and every log in one temporary folder.

Started as the Procfile starts them (the engine through bot.engine_launch, which becomes
`rasa run`), each in its own process group, so Ctrl-C reaches only the benchmark and
`Stack.stop` ends each of them (and anything it started) by its id. Not for tests: they
have tests/integration/stack.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
APP_PYTHON = REPO / ".venv" / "app" / "bin" / "python"
ENGINE_START_TIMEOUT = 300.0
SERVER_START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class StackError(RuntimeError):
    """A process of the stack did not start; the message names its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""
    found: dict[str, int] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float | None:
    """CPU time the process has used so far (user + system), from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the parent id follows its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def find_rasa_run(root: int) -> int | None:
    """The `rasa run` process: bot.engine_launch execs it in place, but look at the
    launcher's descendants too, should that ever become a fork."""
    pending = [root]
    while pending:
        pid = pending.pop(0)
        args = _cmdline(pid)
        if "run" in args and any(Path(a).name == "rasa" for a in args):
            return pid
        pending.extend(_children_of(pid))
    return None


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_healthy(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(f"{self.name} exited early (log: {self.log}):\n{self.tail()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise StackError(f"{self.name} did not come up in {timeout:.0f} s (log: {self.log})")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # Its own process group (start_new_session): the signal reaches what it started too.
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


@dataclass
class Stack:
    """The three servers of a run, their settings (`env`) and their folder (`work`)."""

    work: Path
    env: dict[str, str]
    engine_port: int
    action_port: int
    app_port: int
    servers: dict[str, Server] = field(default_factory=dict)

    @classmethod
    def create(cls) -> Stack:
        work = Path(tempfile.mkdtemp(prefix="pepvoice-fullstack-"))
        engine_port, action_port, app_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'pepvoice.db'}",
            "VAR_DIR": str(work),
            # A key of this run only: nothing it seals outlives the folder.
            "SECRET_KEY": secrets.token_urlsafe(48),
            "RASA_URL": f"http://127.0.0.1:{engine_port}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
            "APP_BASE_URL": f"http://127.0.0.1:{app_port}",
            "PYTHONPATH": str(REPO),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # Nothing in a load run may reach a real mailbox.
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "9",
            "SMTP_SECURITY": "none",
        }
        return cls(work, env, engine_port, action_port, app_port)

    @property
    def engine_url(self) -> str:
        return f"http://127.0.0.1:{self.engine_port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def migrate(self) -> None:
        log = self.work / "migrate.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [str(APP_PYTHON), "-m", "bot", "migrate"], cwd=REPO, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise StackError(f"migrate failed (log: {log})")

    def _start(self, name: str, cmd: list[str], url: str) -> Server:
        log = self.work / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                cmd, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        server = Server(name, process, log, url)
        self.servers[name] = server
        return server

    def start(self, model: Path) -> None:
        """Action server and engine together (the engine takes a minute or two), then the app."""
        actions = self._start(
            "actions",
            [str(APP_PYTHON), "-m", "bot.action_server", "--host", "127.0.0.1",
             "--port", str(self.action_port)],
            f"http://127.0.0.1:{self.action_port}",
        )  # fmt: skip
        engine = self._start(
            "engine",
            [str(APP_PYTHON), "-m", "bot.engine_launch", "--model", str(model),
             "--port", str(self.engine_port)],
            self.engine_url,
        )  # fmt: skip
        actions.wait_healthy("/health", SERVER_START_TIMEOUT)
        engine.wait_healthy("/", ENGINE_START_TIMEOUT)
        app = self._start(
            "app",
            [str(APP_PYTHON), "-m", "uvicorn", "bot.web.app:app", "--host", "127.0.0.1",
             "--port", str(self.app_port), "--no-proxy-headers"],
            self.app_url,
        )  # fmt: skip
        app.wait_healthy("/health", SERVER_START_TIMEOUT)

    def engine_pid(self) -> int | None:
        engine = self.servers.get("engine")
        return None if engine is None else find_rasa_run(engine.process.pid)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each server (the engine: the `rasa run` process)."""
        found: dict[str, float] = {}
        for name, server in self.servers.items():
            pid = self.engine_pid() if name == "engine" else server.process.pid
            used = None if pid is None else cpu_seconds(pid)
            if used is not None:
                found[name] = used
        return found

    def failed(self) -> list[str]:
        """The servers that have exited (each with its log), for a run's report."""
        return [
            f"{s.name} exited with {s.process.returncode} (log: {s.log})"
            for s in self.servers.values()
            if s.process.poll() is not None
        ]

    def stop(self) -> None:
        # The app first, so nothing new reaches the engine while it stops.
        for name in ("app", "engine", "actions"):
            server = self.servers.get(name)
            if server is not None:
                try:
                    server.stop()
                except Exception as error:  # keep stopping the others
                    print(f"could not stop {name}: {error}", file=sys.stderr)
