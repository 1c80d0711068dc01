"""Keep invite codes (which arrive in chat links) out of the server's access log."""

from __future__ import annotations

import logging
import re

# The chat's own fixed paths are kept (without any query string); any other path under
# /chat, in any case, may hold a code or link token and is redacted whole.
_FIXED = frozenset(
    {
        "/chat",
        "/chat/start",
        "/chat/finished",
        "/chat/api/history",
        "/chat/api/start",
        "/chat/api/send",
        "/chat/api/finish",
    }
)
_CHAT_PATH = re.compile(r"/chat[^\s\"]*", re.IGNORECASE)


def _scrub(match: re.Match[str]) -> str:
    path, _, query = match.group(0).partition("?")
    if path in _FIXED:
        return path + ("?[redacted]" if query else "")
    return "/chat[redacted]"


def redact(text: str) -> str:
    return _CHAT_PATH.sub(_scrub, text)


class RedactChatPaths(logging.Filter):
    """uvicorn.access records carry the path in args; rewrite it before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
