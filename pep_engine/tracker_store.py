"""Rasa's SQL tracker store, keeping the conversations in progress in memory.

Rasa reads a child's whole conversation back from the database and rebuilds every event on
every turn: under load that was a quarter of the engine's CPU, and it grows with the
conversation (docs/benchmarks.md). This store keeps the trackers it last saved for the most
recent conversations and hands one back only while it is provably what the database holds:

- the tracker still has exactly the events it had when saved (a turn that failed half-way
  and never saved leaves more: it is read again from the database), and
- the database still holds exactly as many events for that conversation as after that save
  (another engine sharing the database, issue 13, may have answered the child since: one
  indexed count tells, and the conversation is read again).

Writes go to the database as before, so a restart or a second engine loses nothing. Rasa's
lock store keeps two turns of one conversation from running at once, on one engine or many.
Configured by bot.engine_launch (`type: pep_engine.tracker_store.RecentTrackerSQLStore`).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

#: Conversations kept: about the children one engine serves at the same time, with room.
#: A 60-turn conversation's tracker is ~0.5 MB in memory.
DEFAULT_RECENT = 200


@dataclass
class _Saved:
    tracker: DialogueStateTracker
    events: int  # len(tracker.events) when saved
    stored: int  # rows the database held for the conversation after the save


class RecentTrackerSQLStore(SQLTrackerStore):  # type: ignore[misc]
    def __init__(self, *args: Any, recent: int = DEFAULT_RECENT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: OrderedDict[str, _Saved] = OrderedDict()
        self._limit = int(recent)
        # The basis of each save in progress, by conversation: saves of different children
        # interleave at their awaits (one conversation's turns never do: Rasa's lock store).
        self._saving: dict[str, _Saved] = {}
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:  # the file keeps the mode: set once
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            sa.event.listen(self.engine, "connect", _sync_normally)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        stored = self._stored(sender_id)
        saved = self._recent.get(sender_id)
        if saved is not None:
            if len(saved.tracker.events) == saved.events and stored == saved.stored:
                self._recent.move_to_end(sender_id)
                return saved.tracker
            del self._recent[sender_id]
        tracker: DialogueStateTracker | None = await super().retrieve(sender_id)
        if tracker is not None:  # what the database holds now: the basis for the next save
            self._keep(_Saved(tracker, len(tracker.events), stored))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        basis = self._recent.pop(tracker.sender_id, None)  # a failed save leaves nothing
        if basis is not None and basis.tracker is tracker:
            self._saving[tracker.sender_id] = basis
        try:
            await super().save(tracker)
        finally:
            self._saving.pop(tracker.sender_id, None)
        if basis is not None and basis.tracker is tracker:
            # Rasa stored the events added since: no need to count them in the database.
            stored = basis.stored + len(tracker.events) - basis.events
        else:
            stored = self._stored(tracker.sender_id)
        self._keep(_Saved(tracker, len(tracker.events), stored))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        """The events to store: Rasa counts the stored ones in the database first; when the
        tracker is the one read (or saved) last, that count is known."""
        basis = self._saving.get(tracker.sender_id)
        if basis is None:
            return super()._additional_events(session, tracker)  # type: ignore[no-any-return]
        return itertools.islice(tracker.events, basis.events, len(tracker.events))

    def _keep(self, saved: _Saved) -> None:
        self._recent[saved.tracker.sender_id] = saved
        self._recent.move_to_end(saved.tracker.sender_id)
        while len(self._recent) > self._limit:
            self._recent.popitem(last=False)

    def _stored(self, sender_id: str) -> int:
        with self.session_scope() as session:
            query = sa.select(sa.func.count()).where(self.SQLEvent.sender_id == sender_id)
            return int(session.execute(query).scalar_one())


def _sync_normally(connection: Any, _record: Any) -> None:
    """SQLite (the embedded default) in write-ahead mode (set above, kept by the file): a
    turn's commit appends to the log instead of rewriting pages and syncing twice, and reads
    never wait for a write. `synchronous` is per connection, so it is set on each. Still safe
    if the engine crashes; a power cut may lose the last turn's record (the child's answers
    are saved in the app's database by the actions, not here)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
