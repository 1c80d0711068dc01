"""The review app reads while children's answers are being saved (issue 10).

With the stack running, the action server saves each answer in its own short transaction
while designated teachers open the dashboard, a child's voice page and its downloads, and
an admin runs `python -m bot export`. On a real SQLite file (and on PostgreSQL) every save
must land, every page must be a 200 and nothing may fail with "database is locked".

Writers save answers the way the action server does
(`bot.services.conversation.save_conversation_answer` for a linked conversation): first as
threads of this process, then as separate processes, as the real stack runs them.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from functools import partial
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import db
from bot.cli import main as cli_main
from bot.models import Answer, AuditEvent, Pep
from bot.questions import METADATA_KEYS, questions_for
from bot.services.conversation import link_conversation, save_conversation_answer
from bot.services.directory import add_child, add_pep
from bot.services.invites import issue_invite
from bot.services.tagging import tags_for
from tests.review.helpers import World, logged_in

CHILDREN = 5
ROUNDS = 2  # each child answers every question, then changes every answer once
YEAR_GROUP = 8
QUESTION_KEYS = [q.key for q in questions_for(YEAR_GROUP) if q.key not in METADATA_KEYS]
SAVES_PER_CHILD = ROUNDS * len(QUESTION_KEYS)
PAGES_PER_READER = 6  # at least; readers go on until the writers are done


def _conversation(index: int) -> str:
    return f"load-test-conversation-{index}"


def _children(world: World) -> list[int]:
    """CHILDREN more children at school A, each with a PEP linked to a conversation."""
    codes = []
    with db.session_scope() as session:
        for index in range(CHILDREN):
            child = add_child(session, "Oak Primary", f"Child{index}", YEAR_GROUP)
            pep = add_pep(session, child.id, "2030-02-01")
            codes.append(issue_invite(session, pep))
    return [
        link_conversation(code, _conversation(i), client=f"test-{i}").pep_id
        for i, code in enumerate(codes)
    ]


def save_all_answers(index: int) -> None:
    """One child's whole conversation, answer by answer, as the action server saves it."""
    for round_ in range(ROUNDS):
        for key in QUESTION_KEYS:
            save_conversation_answer(_conversation(index), key, f"answer {round_} to {key}")


def writer_process(children: list[int], ready: EventType, start: EventType) -> None:
    """Another process, like the action server: warmed up (imports, the tagger's model),
    then saves its children's conversations side by side once told to start."""
    tags_for("warming up")
    ready.set()
    start.wait(timeout=60)
    threads = [threading.Thread(target=save_all_answers, args=(i,)) for i in children]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Failures:
    """What went wrong in any thread, kept for the test to report."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._lock = threading.Lock()

    def run(self, work: Callable[[], None]) -> Callable[[], None]:
        def guarded() -> None:
            try:
                work()
            except BaseException:  # reported by the test, not lost in a thread
                with self._lock:
                    self.items.append(traceback.format_exc())

        return guarded


def _reader(
    c: TestClient, peps: list[int], writers_done: threading.Event, statuses: list[int]
) -> Callable[[], None]:
    def read() -> None:
        paths = ["/review"]
        for pep_id in peps:
            paths += [f"/review/peps/{pep_id}", f"/review/peps/{pep_id}/export.pdf"]
        done = 0
        while done < PAGES_PER_READER or not writers_done.is_set():
            response = c.get(paths[done % len(paths)])
            statuses.append(response.status_code)
            assert response.status_code == 200, response.text[:500]
            done += 1

    return read


def _cli_exporter(
    peps: list[int], out_dir: Path, writers_done: threading.Event, statuses: list[int]
) -> Callable[[], None]:
    def export() -> None:
        done = 0
        while done < 2 or not writers_done.is_set():
            pep_id = peps[done % len(peps)]
            out = out_dir / f"export-{done}.json"
            statuses.append(cli_main(["export", "--pep", str(pep_id), "--format", "json",
                                      "--out", str(out)]))  # fmt: skip
            done += 1

    return export


def _run_load(
    world: World, tmp_path: Path, start_writers: Callable[[], Callable[[], None]]
) -> None:
    """Readers and the CLI export run until the writers finish; then check everything."""
    peps = _children(world)
    failures = Failures()
    writers_done = threading.Event()
    page_statuses: list[int] = []
    cli_statuses: list[int] = []
    # Logged in first: a login holds the lock while argon2 checks the password (hundreds of
    # milliseconds); what is tested here is reading pages while children write.
    clients = [logged_in(world.dt_a) for _ in range(2)]
    readers = [
        threading.Thread(target=failures.run(_reader(c, peps, writers_done, page_statuses)))
        for c in clients
    ]
    exporter = threading.Thread(
        target=failures.run(_cli_exporter(peps, tmp_path, writers_done, cli_statuses))
    )
    for thread in [*readers, exporter]:
        thread.start()
    wait_for_writers = start_writers()
    try:
        wait_for_writers()
    finally:
        writers_done.set()
        for thread in [*readers, exporter]:
            thread.join(timeout=60)

    assert not failures.items, "\n".join(failures.items)
    assert all("database is locked" not in f for f in failures.items)
    assert page_statuses and set(page_statuses) == {200}
    assert cli_statuses and set(cli_statuses) == {0}
    with db.session_scope() as session:
        answers = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.pep_id.in_(peps))
        )
        saves = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "answer.saved", AuditEvent.pep_id.in_(peps))
        )
        texts = set(session.scalars(select(Answer.text).where(Answer.pep_id.in_(peps))))
        in_progress = session.scalars(select(Pep.status).where(Pep.id.in_(peps))).all()
    assert answers == CHILDREN * len(QUESTION_KEYS)
    assert saves == CHILDREN * SAVES_PER_CHILD
    assert texts == {f"answer {ROUNDS - 1} to {key}" for key in QUESTION_KEYS}
    assert {status.value for status in in_progress} == {"in_progress"}


def test_pages_and_exports_while_conversations_save_in_threads(
    world: World, tmp_path: Path
) -> None:
    def start_writers() -> Callable[[], None]:
        failures = Failures()
        threads = [
            threading.Thread(target=failures.run(partial(save_all_answers, i)))
            for i in range(CHILDREN)
        ]
        for thread in threads:
            thread.start()

        def wait() -> None:
            for thread in threads:
                thread.join(timeout=60)
            assert not failures.items, "\n".join(failures.items)

        return wait

    _run_load(world, tmp_path, start_writers)


def test_pages_and_exports_while_other_processes_save(world: World, tmp_path: Path) -> None:
    """The real stack: the action server is another process with its own connections."""
    spawn = multiprocessing.get_context("spawn")  # a clean interpreter, like the real one
    start = spawn.Event()
    processes = [
        (spawn.Process(target=writer_process, args=(list(range(n, CHILDREN, 2)), ready, start),
                       daemon=True),
         ready)
        for n, ready in enumerate([spawn.Event(), spawn.Event()])
    ]  # fmt: skip
    for process, _ in processes:
        process.start()

    def start_writers() -> Callable[[], None]:
        for _, ready in processes:
            assert ready.wait(timeout=60), "a writer process did not start"
        start.set()

        def wait() -> None:
            for process, _ in processes:
                process.join(timeout=60)
            assert [p.exitcode for p, _ in processes] == [0, 0]

        return wait

    _run_load(world, tmp_path, start_writers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_review_database_uses_wal_and_waits_for_the_lock(world: World) -> None:
    """Every connection the app opens on SQLite: WAL, and a busy timeout (not 0)."""
    engine = db.get_engine()
    assert logged_in(world.dt_a).get("/review").status_code == 200
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert timeout == db.SQLITE_BUSY_TIMEOUT_MS >= 15_000
