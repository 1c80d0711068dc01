"""Baseline figures for the engine: start-up time to first answer, and its memory.

Run with the app environment after `make train`:
    .venv/app/bin/python bench/engine_baseline.py [--model models/current.tar.gz] [--runs 3]
Starts the real action server and engine on free loopback ports (a throw-away store), sends
one message as soon as the port opens, and reports seconds to the first answer and the
engine's resident memory (VmRSS, then VmHWM as the peak) after answering.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.engine_client import ENGINE_WEBHOOK_PATH

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def _app_headers(env: dict[str, str]) -> dict[str, str]:
    """The app's header for the engine (bot.engine_client), under the run's key."""
    code = "import json, bot.engine_client as c; print(json.dumps(c.engine_headers()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out))


def one_run(model: Path) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pepvoice-bench-"))
    engine_port, action_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "VAR_DIR": str(work),
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "RASA_URL": f"http://127.0.0.1:{engine_port}",
    }
    env.setdefault("ENVIRONMENT", "development")  # a throw-away key in `work` unless one is set
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=REPO, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    actions = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(action_port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    # As the Procfile starts it: bot.engine_launch writes the endpoints and becomes `rasa run`.
    engine = subprocess.Popen(
        [
            sys.executable, "-m", "bot.engine_launch", "--model", str(model),
            "--port", str(engine_port),
        ],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    headers = _app_headers(env)
    try:
        url = f"http://127.0.0.1:{engine_port}{ENGINE_WEBHOOK_PATH}"
        while True:
            if engine.poll() is not None:
                raise SystemExit("the engine exited before answering")
            try:
                reply = httpx.post(
                    url, json={"sender": "bench", "message": "hi"}, headers=headers, timeout=60
                )
                if reply.status_code == 200 and reply.json():
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        first_answer = time.monotonic() - started
        memory = _memory_kib(engine.pid)
        return {
            "first_answer_s": round(first_answer, 1),
            "rss_mib": round(memory["VmRSS"] / 1024),
            "peak_rss_mib": round(memory["VmHWM"] / 1024),
        }
    finally:
        for process in (engine, actions):
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "current.tar.gz")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.model.resolve()) for _ in range(args.runs)]
    summary = {
        key: {"median": statistics.median(r[key] for r in runs), "runs": [r[key] for r in runs]}
        for key in runs[0]
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
