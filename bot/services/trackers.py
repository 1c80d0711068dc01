"""The engine's conversations, read and deleted from Rasa's SQL tracker store.

Rasa's SQLTrackerStore (rasa/core/tracker_store.py, Rasa 3.6) keeps one row per event in
a table `events`: id, sender_id, type_name, timestamp (epoch seconds, float), intent_name,
action_name and data (the event as JSON text, the child's words included). The engine is
the only writer; the app reads conversations for subject access and deletes them whole
(bot.services.lifecycle).

A conversation is linked to a PEP when keyed_hash("conversation:" + sender_id) is the
`bound_to` of one of its invites (bot.services.invites). Sender ids are never derived from
a PEP: every stored sender id is hashed, under every key in the ring, and matched.

A tracker database or table that does not exist yet means no conversations. Anything else
(the server is down, a password is wrong) raises, so an erasure never reports work it did
not do. Deletions are committed here at once: this is a different database from the
caller's session.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.models import Invite
from bot.security import keyed_hashes
from bot.settings import get_settings

# Not part of bot.models' metadata: Alembic must never create or migrate Rasa's table.
_metadata = MetaData()
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# The prefix bot.services.invites and bot.services.safeguarding hash conversation ids with.
CONVERSATION_PREFIX = "conversation:"
# Sender ids per DELETE statement (SQLite's bound-parameter limit is 999 in old builds).
_CHUNK = 500


@dataclass(frozen=True)
class Conversation:
    sender_id: str
    first_event_at: datetime | None
    last_event_at: datetime | None
    events: int


@dataclass(frozen=True)
class Utterance:
    at: datetime | None
    speaker: str  # "child" (a user event) or "bot"
    text: str


def _when(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _url(url: str | None) -> URL:
    return make_url(url or get_settings().database.tracker_url)


def _postgres_database_missing(url: URL) -> bool:
    """Whether the server answers but has no such database (psycopg gives no SQLSTATE for a
    refused connection, and its message is in the server's language, so ask the server)."""
    maintenance = create_engine(url.set(database="postgres"), poolclass=NullPool)
    try:
        with maintenance.connect() as connection:
            found = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
    except OperationalError:
        return False  # the server itself is unreachable: that is an error, not "empty"
    finally:
        maintenance.dispose()
    return found is None


@contextmanager
def _connection(url: str | None = None) -> Iterator[Connection | None]:
    """A connection to the tracker store, or None when it has no events table yet."""
    parsed = _url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).exists():
            yield None  # connecting would create an empty file
            return
        # The engine may be writing: wait for its lock rather than failing at once.
        engine = create_engine(parsed, poolclass=NullPool, connect_args={"timeout": 30})
    else:
        engine = create_engine(parsed, poolclass=NullPool)
    try:
        try:
            connection = engine.connect()
        except OperationalError:
            if parsed.get_backend_name() == "postgresql" and _postgres_database_missing(parsed):
                connection = None
            else:
                raise
        if connection is None:
            yield None
            return
        with connection:
            has_table = inspect(connection).has_table(events.name)
            connection.rollback()
            yield connection if has_table else None
    finally:
        engine.dispose()


def list_conversations(url: str | None = None) -> list[Conversation]:
    """Every conversation in the store with its first and last event times."""
    with _connection(url) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            select(
                events.c.sender_id,
                func.min(events.c.timestamp),
                func.max(events.c.timestamp),
                func.count(),
            )
            .group_by(events.c.sender_id)
            .order_by(events.c.sender_id)
        ).all()
        connection.rollback()
    return [Conversation(s, _when(first), _when(last), n) for s, first, last, n in rows]


def link_hashes(sender_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each sender id's conversation hash under every key in the ring."""
    return {s: keyed_hashes(CONVERSATION_PREFIX + s) for s in sender_ids}


def senders_matching(hashes: Collection[str], by_sender: dict[str, list[str]]) -> list[str]:
    """The sender ids (keys of `link_hashes`) whose hash under some key is in `hashes`."""
    wanted = set(hashes)
    return [s for s, own in by_sender.items() if wanted.intersection(own)]


def conversations_for_pep(session: Session, pep_id: int, url: str | None = None) -> list[str]:
    """The sender ids of the stored conversations that redeemed one of the PEP's invites."""
    query = select(Invite.bound_to).where(Invite.pep_id == pep_id)
    bound = {h for h in session.scalars(query) if h is not None}
    if not bound:
        return []
    senders = (c.sender_id for c in list_conversations(url))
    return senders_matching(bound, link_hashes(senders))


def read_conversation(sender_id: str, url: str | None = None) -> list[Utterance]:
    """What the child and the bot said, in order (every session of the conversation)."""
    with _connection(url) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            select(events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id, events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.id)
        ).all()
        connection.rollback()
    said = []
    for type_name, timestamp, data in rows:
        event: dict[str, Any] = json.loads(data) if data else {}
        words = event.get("text")
        if isinstance(words, str) and words:
            speaker = "child" if type_name == "user" else "bot"
            said.append(Utterance(_when(event.get("timestamp", timestamp)), speaker, words))
    return said


def delete_conversations(sender_ids: Iterable[str], url: str | None = None) -> int:
    """Delete every event of these conversations, committed at once; the events deleted."""
    senders = sorted(set(sender_ids))
    if not senders:
        return 0
    with _connection(url) as connection:
        if connection is None:
            return 0
        deleted = 0
        with connection.begin():
            for start in range(0, len(senders), _CHUNK):
                chunk = senders[start : start + _CHUNK]
                result = connection.execute(delete(events).where(events.c.sender_id.in_(chunk)))
                deleted += result.rowcount
    return deleted
