"""Review page latency while children save answers (issue 10, "Reads while children write").

    .venv/app/bin/python bench/review_under_load.py [--children 0 10 30] [--seconds 10]
        [--pause 0] [--readers 2] [--database-url URL]

For each number of children N: a separate writer process (like the action server) saves
answers for N linked conversations, one thread per child, `--pause` seconds apart (0: back
to back, a stress; a real child takes ten seconds or more per answer); meanwhile
`--readers` designated teachers, each a thread with the FastAPI TestClient in this process
(like the review app), cycle through the dashboard, a child's voice page and its PDF.
Reports page latency (p50/p95 per page), the children's save latency (p50/p95/max) and any
failure ("database is locked").
A throw-away SQLite file by default (WAL, as in production); `--database-url` for another.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import warnings
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "correct horse battery staple"
PAGES = ("dashboard", "voice page", "PDF download")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _env(database_url: str, var_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        VAR_DIR=var_dir,
        SECRET_KEY="bench-secret-key-not-for-production-0123456789",
        ENVIRONMENT="development",
    )


def writer(
    env: dict[str, str], conversations: list[str], seconds: float, pause: float,
    ready: EventType, start: EventType, results: Any,
) -> None:  # fmt: skip
    """The action server's side: each child saves answers back to back for `seconds`."""
    os.environ.update(env)
    from bot.questions import METADATA_KEYS, questions_for
    from bot.services.conversation import save_conversation_answer
    from bot.services.tagging import tags_for

    keys = [q.key for q in questions_for(8) if q.key not in METADATA_KEYS]
    tags_for("warming up")  # the tagger's model, loaded once per process as in the server
    timings: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def child(conversation: str) -> None:
        n = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                save_conversation_answer(conversation, keys[n % len(keys)], f"answer {n}")
            except Exception as exc:  # counted and reported, the run goes on
                with lock:
                    failures.append(str(exc).splitlines()[0])
            with lock:
                timings.append(time.monotonic() - began)
            n += 1
            time.sleep(pause)

    ready.set()
    start.wait(timeout=120)
    threads = [threading.Thread(target=child, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not conversations:
        time.sleep(seconds)  # no children: the pages alone, for as long
    results.put((timings, failures))


def _seed(children: int) -> tuple[list[str], list[int], str]:
    """A school, its designated teacher, `children` linked children: conversations, PEPs."""
    from bot import db
    from bot.models import Role
    from bot.review.accounts import set_password
    from bot.services.conversation import link_conversation
    from bot.services.directory import add_child, add_pep, add_school, add_staff
    from bot.services.invites import issue_invite

    email = f"dt.{time.monotonic_ns()}@bench.example.org"
    with db.session_scope() as session:
        school = add_school(session, f"Bench School {time.monotonic_ns()}")
        staff = add_staff(session, school.name, email, Role.designated_teacher)
        session.flush()
        set_password(session, staff, PASSWORD, actor="bench")
        codes = []
        for i in range(max(children, 1)):
            child = add_child(session, school.name, f"Child{i}", 8)
            codes.append(issue_invite(session, add_pep(session, child.id, "2030-02-01")))
    conversations = [f"bench-{time.monotonic_ns()}-{i}" for i in range(len(codes))]
    peps = [
        link_conversation(code, conversation, client=f"bench-{i}").pep_id
        for i, (code, conversation) in enumerate(zip(codes, conversations, strict=True))
    ]
    return conversations[:children], peps, email


def _reader(email: str, pep_id: int, stop: threading.Event, out: dict[str, list[float]],
            failures: list[str]) -> None:  # fmt: skip
    from fastapi.testclient import TestClient

    from bot.web.app import app

    c = TestClient(app, follow_redirects=False)
    page = c.get("/review/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    login = c.post("/review/login", data={"csrf": csrf, "email": email, "password": PASSWORD})
    assert login.status_code == 303, login.text
    paths = dict(zip(PAGES, ["/review", f"/review/peps/{pep_id}",
                             f"/review/peps/{pep_id}/export.pdf"], strict=True))  # fmt: skip
    while not stop.is_set():
        for name, path in paths.items():
            began = time.monotonic()
            try:
                response = c.get(path)
                if response.status_code != 200:
                    failures.append(f"{name}: HTTP {response.status_code}")
            except Exception as exc:  # counted and reported
                failures.append(f"{name}: {str(exc).splitlines()[0]}")
            out[name].append(time.monotonic() - began)


def run(
    children: int, seconds: float, pause: float, readers: int, env: dict[str, str]
) -> dict[str, Any]:
    conversations, peps, email = _seed(children)
    spawn = multiprocessing.get_context("spawn")
    ready, start, results = spawn.Event(), spawn.Event(), spawn.Queue()
    process = spawn.Process(
        target=writer, args=(env, conversations, seconds, pause, ready, start, results), daemon=True
    )
    process.start()
    assert ready.wait(timeout=120), "the writer process did not start"
    stop = threading.Event()
    latencies: dict[str, list[float]] = {name: [] for name in PAGES}
    page_failures: list[str] = []
    threads = [
        threading.Thread(target=_reader, args=(email, peps[i % len(peps)], stop, latencies,
                                               page_failures))
        for i in range(readers)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(2)  # logged in (argon2) before the children start
    start.set()
    saves, save_failures = results.get(timeout=seconds + 120)
    stop.set()
    for thread in threads:
        thread.join()
    process.join(timeout=30)
    return {"children": children, "latencies": latencies, "saves": saves,
            "save_failures": save_failures, "page_failures": page_failures}  # fmt: skip


def _ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def report(result: dict[str, Any], seconds: float) -> str:
    cells = []
    for name in PAGES:
        values = result["latencies"][name]
        cells.append(f"{_ms(_percentile(values, 0.5))} / {_ms(_percentile(values, 0.95))}")
    saves = result["saves"]
    save_cell = (
        f"{len(saves) / seconds:.0f}/s, {_ms(_percentile(saves, 0.5))} / "
        f"{_ms(_percentile(saves, 0.95))} / {_ms(max(saves))}"
        if saves
        else "-"
    )
    failures = len(result["save_failures"]) + len(result["page_failures"])
    return f"| {result['children']} | " + " | ".join(cells) + f" | {save_cell} | {failures} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[0, 10, 30])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Using `httpx`")

    work = tempfile.mkdtemp(prefix="review-load-")
    url = args.database_url or f"sqlite:///{work}/bench.db"
    _env(url, f"{work}/var")
    env = {k: os.environ[k] for k in ("DATABASE_URL", "VAR_DIR", "SECRET_KEY", "ENVIRONMENT")}
    from bot import db

    db.migrate(url)
    print(
        f"database: {url.split('@')[-1]}; {args.readers} readers; {args.seconds:g} s a run; "
        f"{args.pause:g} s between a child's answers; {os.cpu_count()} CPUs"
    )
    print("| children | dashboard p50 / p95 ms | voice page p50 / p95 ms | "
          "PDF p50 / p95 ms | saves: rate, p50 / p95 / max ms | failures |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for children in args.children:
        result = run(children, args.seconds, args.pause, args.readers, env)
        print(report(result, args.seconds), flush=True)
        for failure in sorted(set(result["save_failures"] + result["page_failures"]))[:5]:
            print(f"    failure: {failure}")


if __name__ == "__main__":
    main()
