"""A real tracker store, written by Rasa's own SQLTrackerStore in the engine environment, and
builders for children whose distinctive words are easy to search for.

`tracker` gives each test the store the settings name: var/tracker.db beside a SQLite
database, or "<db>_tracker" on the PostgreSQL server (created once per run, its events
table dropped after each test). Rasa creates the table when it first saves a conversation,
so a test that writes nothing also sees "no tracker table yet".
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Connection, Text, cast, create_engine, func, inspect, or_, select, table
from sqlalchemy import column as sql_column
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.models import AnsweredBy, Pep, Role, TelegramChat
from bot.security import keyed_hash
from bot.services import directory
from bot.services.answers import record_answer
from bot.services.invites import issue_invite, redeem_invite
from bot.services.safeguarding import dedupe_key_for, report_disclosure
from bot.settings import Settings, get_settings
from tests.conftest import postgres_admin

REPO = Path(__file__).resolve().parents[3]
ENGINE_PYTHON = REPO / ".venv" / "engine" / "bin" / "python"
WRITER = Path(__file__).with_name("rasa_writer.py")

OAK, ELM = "Oak Primary", "Elm Academy"
OAK_STAFF = {
    "admin@oak.example": Role.admin,
    "dt@oak.example": Role.designated_teacher,
    "dsl@oak.example": Role.dsl,
    "vs@oak.example": Role.virtual_school,
}
ELM_STAFF = {"admin@elm.example": Role.admin, "dsl@elm.example": Role.dsl}


def epoch(moment: datetime) -> float:
    return moment.timestamp()


class RasaWriter:
    """The engine-env process that saves conversations with SQLTrackerStore."""

    def __init__(self, log: Path) -> None:
        env = dict(os.environ)
        env.update(
            PYTHONWARNINGS="ignore",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL="3",
            PYTHONPATH=str(REPO),
        )
        self._log: IO[str] = log.open("w")
        self._process = subprocess.Popen(
            [str(ENGINE_PYTHON), str(WRITER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    def request(self, **request: Any) -> Any:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        assert line, "the Rasa writer exited; see its log"
        reply = json.loads(line)
        assert "error" not in reply, reply["error"]
        return reply["ok"]

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)
        self._log.close()


@pytest.fixture(scope="session")
def rasa_writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaWriter]:
    if not ENGINE_PYTHON.exists():
        pytest.fail("the engine environment is missing: run 'make setup'")
    writer = RasaWriter(tmp_path_factory.mktemp("rasa") / "writer.log")
    yield writer
    writer.close()


@pytest.fixture(scope="session")
def tracker_server_database(database_url: str) -> Iterator[None]:
    """On PostgreSQL, the throw-away "<db>_tracker" database the settings point at."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield
        return
    name = f"{url.database}_tracker"
    with postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with postgres_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Tracker:
    url: str  # the app's URL for it (settings.database.tracker_url)
    writer: RasaWriter

    @property
    def rasa_url(self) -> str:
        # The engine environment has psycopg2, SQLAlchemy 1.4's default PostgreSQL driver.
        return self.url.replace("postgresql+psycopg://", "postgresql://")

    def say(self, sender_id: str, *turns: tuple[datetime, str, str | None]) -> None:
        """Save turns (time, the child's words, the bot's reply) as the engine would."""
        self.writer.request(
            op="say",
            url=self.rasa_url,
            sender_id=sender_id,
            turns=[{"at": epoch(at), "user": user, "bot": bot} for at, user, bot in turns],
        )

    def keys(self) -> set[str]:
        """The conversations Rasa itself finds in the store."""
        return set(self.writer.request(op="keys", url=self.rasa_url))

    def count_matches(self, word: str) -> int:
        """Rows of the events table with `word` in any column (data included)."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                if not inspect(connection).has_table("events"):
                    return 0
                return matches_in_table(connection, "events", word)
        finally:
            engine.dispose()


@pytest.fixture
def tracker(
    monkeypatch: pytest.MonkeyPatch,
    app_settings: Settings,
    tracker_server_database: None,
    rasa_writer: RasaWriter,
) -> Iterator[Tracker]:
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    store = Tracker(settings.database.tracker_url, rasa_writer)
    yield store
    if make_url(store.url).get_backend_name() == "postgresql":
        engine = create_engine(store.url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS events")
        engine.dispose()


def matches_in_table(connection: Connection, table_name: str, word: str) -> int:
    """Rows of the table with `word` (any case) in any column, each cast to text."""
    columns = [c["name"] for c in inspect(connection).get_columns(table_name)]
    subject = table(table_name, *(sql_column(c) for c in columns))
    pattern = f"%{word.lower()}%"
    condition = [func.lower(cast(subject.c[c], Text)).like(pattern) for c in columns]
    query = select(func.count()).select_from(subject).where(or_(*condition))
    return int(connection.scalar(query) or 0)


def matches_in_database(connection: Connection, word: str) -> dict[str, int]:
    """Per table of the app database, the rows holding `word`; only tables with some."""
    found = {}
    for name in inspect(connection).get_table_names():
        count = matches_in_table(connection, name, word)
        if count:
            found[name] = count
    return found


# --- builders -------------------------------------------------------------------------------


def add_schools(session: Session) -> None:
    for school, staff in ((OAK, OAK_STAFF), (ELM, ELM_STAFF)):
        directory.add_school(session, school)
        for email, role in staff.items():
            directory.add_staff(session, school, email, role)


@dataclass
class ChildData:
    child_id: int
    pep_ids: list[int]
    senders: list[str]  # linked conversations
    prelink_sender: str | None  # a conversation with a disclosure before the code was typed


def link(session: Session, pep: Pep, sender: str, at: datetime) -> None:
    code = issue_invite(session, pep, now=at)
    redeem_invite(session, code, sender, now=at)


def build_child(
    session: Session,
    tracker: Tracker,
    *,
    school: str,
    first_name: str,
    words: str,
    disclosure: str | None,
    meeting: date,
    at: datetime,
    year: int = 8,
) -> ChildData:
    """A child with two PEPs, answers (one skipped), a Telegram link, a linked conversation
    per PEP holding their words, and optionally a disclosure in a conversation of its own
    that was linked to the second PEP afterwards."""
    child = directory.add_child(session, school, first_name, year)
    peps = [
        directory.add_pep(session, child.id, meeting),
        directory.add_pep(session, child.id, date(meeting.year + 1, meeting.month, meeting.day)),
    ]
    senders = [f"web-{uuid.uuid4().hex}", f"tg-{uuid.uuid4().hex}"]
    for pep, sender in zip(peps, senders, strict=True):
        link(session, pep, sender, at)
        record_answer(session, pep, "going_well", words, AnsweredBy.child, child.phase)
        record_answer(session, pep, "hard", None, AnsweredBy.with_carer, child.phase, skipped=True)
        tracker.say(
            sender,
            (at, "hello", f"Hi {first_name}! How do you feel about school now?"),
            (at, words, "Thank you. What's been hard?"),
        )
    session.add(
        TelegramChat(
            chat_hash=keyed_hash(f"telegram-chat:{uuid.uuid4().int}"),
            sealed_chat_id="0000abcd:sealed",
            pep_id=peps[0].id,
            linked_at=at,
        )
    )
    prelink = None
    if disclosure is not None:
        prelink = f"web-{uuid.uuid4().hex}"
        # Said before the code was typed: the concern has the conversation, not the PEP.
        report_disclosure(
            session,
            None,
            words=disclosure,
            category="physical_abuse",
            source="engine",
            dedupe_key=dedupe_key_for(prelink, "m1"),
            conversation_hash=keyed_hash("conversation:" + prelink),
            now=at,
        )
        tracker.say(prelink, (at, disclosure, "Thank you for telling me. Childline 0800 1111."))
        new_code = issue_invite(session, peps[1], now=at)
        redeem_invite(session, new_code, prelink, now=at)
        tracker.say(prelink, (at, words + " again", f"Thanks {first_name}."))
    session.flush()
    return ChildData(child.id, [p.id for p in peps], senders, prelink)


NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
