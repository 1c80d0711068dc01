"""When the database itself failed: tell the fallback contact at once, by a direct send.

The concern could not be stored, so it cannot wait in the outbox for the delivery worker.
The notice is sent in the caller's thread: the actions already run the disclosure service
through asyncio.to_thread, so the event loop is never blocked, and the child's reply waits
at most NOTICE_ATTEMPTS SMTP timeouts (plus one pause) in this rare case. No background
thread can then outlive the process with the only record of a disclosure.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import datetime

from bot.alerts.compose import compose_unrecorded_notice
from bot.mail import send_email
from bot.models import utcnow
from bot.settings import get_settings

logger = logging.getLogger(__name__)

NOTICE_ATTEMPTS = 2
PAUSE_SECONDS = 1.0


def send_unrecorded_notice(
    *, category: str, conversation_ref: str, at: datetime | None = None
) -> bool:
    """Tell VIRTUAL_SCHOOL_EMAIL that a disclosure could not be stored (no words); whether
    the mail server took it. `category` must already be a safe category name."""
    settings = get_settings()
    to = settings.alerts.virtual_school_email
    if not to:
        logger.error("a safeguarding concern was not stored and VIRTUAL_SCHOOL_EMAIL is not set")
        return False
    message = compose_unrecorded_notice(
        category=category,
        conversation_ref=conversation_ref,
        at=at or utcnow(),
        to=to,
        settings=settings,
    )
    for attempt in range(NOTICE_ATTEMPTS):
        if attempt:
            time.sleep(PAUSE_SECONDS)
        try:
            send_email(message, (to,), settings)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("unstored-concern notice not sent: %s", type(exc).__name__)
    logger.error("unstored-concern notice could not be sent")
    return False
