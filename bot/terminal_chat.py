"""Talk to the running bot in a terminal, as the demo child: `make chat`.

Uses the engine's REST webhook, like the web chat and Telegram will. The first message
carries the demo invite code that `make run` printed (kept in var/demo-invite).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx

from bot.engine_client import NOT_SAVED_MESSAGE, as_typed_text, start_message
from bot.security import keyed_hash, normalise_code
from bot.settings import get_settings


def send(client: httpx.Client, sender: str, message: str) -> list[str]:
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    reply.raise_for_status()
    return [
        m.get("text") or " / ".join(b["title"] for b in m.get("buttons", [])) for m in reply.json()
    ]


def _terminal_sender_id(path: Path) -> str:
    """One conversation id for this machine's terminal chats, so a code is reused, not refused."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"terminal-{uuid.uuid4().hex[:12]}")
    return path.read_text().strip()


def main() -> int:
    settings = get_settings()
    code_file = settings.var_dir / "demo-invite"
    code = code_file.read_text().strip() if code_file.exists() else ""
    # A conversation is bound to one PEP for good: each code gets its own conversation.
    sender = _terminal_sender_id(settings.var_dir / "demo-chat-id")
    if code:
        sender += "-" + keyed_hash("terminal:" + normalise_code(code))[:12]
    with httpx.Client(base_url=settings.rasa_url, timeout=60) as client:
        try:
            client.get("/")
        except httpx.HTTPError:
            print(f"The engine is not answering at {settings.rasa_url}. Is 'make run' running?")
            return 1
        # The same structured start message the web chat and Telegram send.
        first = start_message(code) if code else "hi"
        print(f"you> {first}")
        while True:
            # Nothing back means the engine dropped the turn (its action server is down).
            for line in send(client, sender, first) or [NOT_SAVED_MESSAGE]:
                print(f"bot> {line}")
            try:
                first = as_typed_text(input("you> "))
            except (EOFError, KeyboardInterrupt):
                print()
                return 0


if __name__ == "__main__":
    sys.exit(main())
