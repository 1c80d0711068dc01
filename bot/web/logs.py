"""Keep invite codes (which arrive in chat links) out of the server's access log."""

from __future__ import annotations

import logging
import re

_CHAT_PATH = re.compile(r"/chat(?:/(?!api/|start\b|finished\b)[^\s?\"]+|\?[^\s\"]*)")


def redact(text: str) -> str:
    return _CHAT_PATH.sub("/chat[redacted]", text)


class RedactChatPaths(logging.Filter):
    """uvicorn.access records carry the path in args; rewrite it before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
