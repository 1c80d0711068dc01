"""Talk to the running bot in a terminal, as the demo child: `make chat`.

Goes the way the web chat and Telegram go: the app links the conversation with the demo
invite code that `make run` printed (kept in var/demo-invite), then talks to the engine
through `bot.engine_client`.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from bot.child_texts import NOT_SAVED_MESSAGE
from bot.engine_client import (
    START_MESSAGE,
    EngineUnavailable,
    as_typed_text,
    send_to_engine,
)
from bot.security import keyed_hash, normalise_code
from bot.services.conversation import link_conversation
from bot.services.invites import InviteError
from bot.settings import get_settings


def _terminal_sender_id(path: Path) -> str:
    """One conversation id for this machine's terminal chats, so a code is reused, not refused."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(f"terminal-{uuid.uuid4().hex[:12]}")
    return path.read_text().strip()


async def _say(sender: str, message: str) -> None:
    try:
        replies = await send_to_engine(sender, message)
    except EngineUnavailable:
        print(f"bot> {NOT_SAVED_MESSAGE}")
        return
    for reply in replies:
        print(f"bot> {reply.text or ' / '.join(b.title for b in reply.buttons)}")


async def chat() -> int:
    settings = get_settings()
    code_file = settings.var_dir / "demo-invite"
    code = code_file.read_text().strip() if code_file.exists() else ""
    if not code:
        print("No demo invite in var/demo-invite: run 'make run' (or 'make seed') first.")
        return 1
    # A conversation is bound to one PEP for good: each code gets its own conversation.
    sender = _terminal_sender_id(settings.var_dir / "demo-chat-id")
    sender += "-" + keyed_hash("terminal:" + normalise_code(code))[:12]
    try:
        await asyncio.to_thread(link_conversation, code, sender, client="terminal")
    except InviteError as refused:
        print(f"bot> {refused.message}")
        return 1
    print(f"you> {START_MESSAGE}")
    message = START_MESSAGE
    while True:
        await _say(sender, message)
        try:
            message = as_typed_text(await asyncio.to_thread(input, "you> "))
        except (EOFError, KeyboardInterrupt):
            print()
            return 0


def main() -> int:
    return asyncio.run(chat())


if __name__ == "__main__":
    sys.exit(main())
