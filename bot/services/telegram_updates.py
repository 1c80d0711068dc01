"""Webhook updates claimed in the store (`telegram_processed_updates`), so Telegram's
redeliveries run an update once: in progress while a delivery processes it, processed once
it has, so a redelivery is run only if the update was not processed. Each function is one
short transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.models import ProcessedUpdate, utcnow

# Telegram gives up redelivering an update long before this.
KEEP_UPDATE_IDS = timedelta(days=7)
# An update in progress for longer than this was left by a process that died: take it over.
STALE_CLAIM = timedelta(minutes=5)
_PRUNE_EVERY = 500


class UpdateClaim(enum.Enum):
    """What a webhook delivery may do with its update."""

    run = "run"  # claimed for this delivery: process it, then `finish_update` or `release_update`
    done = "done"  # processed already: acknowledge, do not run again
    busy = "busy"  # another delivery is processing it now: ask Telegram to try again later


def _prune(now: datetime) -> None:
    old = now - KEEP_UPDATE_IDS
    with session_scope() as session:
        session.execute(
            delete(ProcessedUpdate).where(
                or_(
                    ProcessedUpdate.processed_at < old,
                    and_(ProcessedUpdate.processed_at.is_(None), ProcessedUpdate.claimed_at < old),
                )
            )
        )


def claim_update(update_id: int, now: datetime) -> UpdateClaim:
    """Claim an update for processing, as in progress since `now`.

    A claim older than STALE_CLAIM (its process died mid-update) is taken over. Pass the
    same `now` to `release_update`, so a delivery never releases a claim taken over from it.
    """
    for _ in range(3):  # a claim released between the two steps below: claim it afresh
        try:
            with session_scope() as session:
                session.add(ProcessedUpdate(update_id=update_id, claimed_at=now))
        except IntegrityError:
            pass
        else:
            if update_id % _PRUNE_EVERY == 0:
                _prune(now)
            return UpdateClaim.run
        with session_scope() as session:
            row = session.get(ProcessedUpdate, update_id)
            if row is None:
                continue
            if row.processed_at is not None:
                return UpdateClaim.done
            taken = session.execute(
                update(ProcessedUpdate)
                .where(
                    ProcessedUpdate.update_id == update_id,
                    ProcessedUpdate.processed_at.is_(None),
                    ProcessedUpdate.claimed_at < now - STALE_CLAIM,
                )
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return UpdateClaim.run if taken.rowcount else UpdateClaim.busy  # type: ignore[attr-defined]
    return UpdateClaim.busy


def finish_update(update_id: int, now: datetime | None = None) -> None:
    """Mark a claimed update processed: a redelivery from now on is acknowledged, not run."""
    with session_scope() as session:
        session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id)
            .values(processed_at=now or utcnow(), claimed_at=None)
            .execution_options(synchronize_session=False)
        )


def release_update(update_id: int, claimed_at: datetime) -> None:
    """Drop this delivery's claim after processing failed, so a redelivery runs the update."""
    with session_scope() as session:
        session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.update_id == update_id,
                ProcessedUpdate.processed_at.is_(None),
                ProcessedUpdate.claimed_at == claimed_at,
            )
        )
