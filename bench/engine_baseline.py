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


def one_run(model: Path) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pepvoice-bench-"))
    engine_port, action_port = _free_port(), _free_port()
    (work / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "VAR_DIR": str(work),
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=REPO, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    actions = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(action_port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    engine = subprocess.Popen(
        [
            str(REPO / ".venv/engine/bin/python"), "-m", "rasa", "run", "--model", str(model),
            "--interface", "127.0.0.1", "--port", str(engine_port),
            "--credentials", str(REPO / "credentials.yml"),
            "--endpoints", str(work / "endpoints.yml"),
        ],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{engine_port}/webhooks/rest/webhook"
        while True:
            if engine.poll() is not None:
                raise SystemExit("the engine exited before answering")
            try:
                reply = httpx.post(url, json={"sender": "bench", "message": "hi"}, timeout=60)
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
