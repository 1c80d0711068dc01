"""`python -m bot.telegram`: the Procfile's `telegram` process.

Polls Telegram when TELEGRAM_TOKEN is set. Otherwise (and in webhook mode, where the web app
receives updates) it idles: honcho stops every process when one exits, and `make run` must
keep running without Telegram.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading

from telegram.error import InvalidToken

from bot.settings import get_settings
from bot.telegram.application import ALLOWED_UPDATES, build_application


def _idle(reason: str) -> int:
    print(f"Telegram polling is off: {reason}.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


def main() -> int:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level="INFO")
    # httpx logs each request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = get_settings()
    if not settings.telegram.enabled:
        return _idle("TELEGRAM_TOKEN is not set")
    if settings.telegram.uses_webhook:
        return _idle("TELEGRAM_WEBHOOK_SECRET is set, so updates arrive at the web app's webhook")
    application = build_application(settings, polling=True)
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        return _idle("Telegram refused TELEGRAM_TOKEN")
    return 0


if __name__ == "__main__":
    sys.exit(main())
