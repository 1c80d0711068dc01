"""Run by tests/engine/test_channel.py with the engine's Python (it needs Rasa):
pep_engine.channel registered in a bare Sanic app the way `rasa run` registers it, logging
set up the way `rasa run` sets it up at DEBUG, and a stand-in for Rasa's message handler
that logs what Rasa's processor logs and fails on request.

    .venv/engine/bin/python tests/engine/channel_probe.py PORT
"""

from __future__ import annotations

import logging
import sys

import structlog
from rasa.core.channels.channel import UserMessage, register
from rasa.utils.log_utils import configure_structlog
from sanic import Sanic

logging.basicConfig(
    level=logging.DEBUG, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s"
)
logging.getLogger("rasa").setLevel(logging.DEBUG)
configure_structlog(logging.DEBUG)

from pep_engine.channel import AppInput  # noqa: E402  (as Rasa imports it: after logging)

structlogger = structlog.get_logger()


async def handle(message: UserMessage) -> None:
    text = message.text or ""
    # What rasa/core/processor.py and rasa/core/actions/forms.py log for every message.
    structlogger.debug(
        "processor.message.parse", parse_data_text=text, parse_data_intent={"name": "inform"}
    )
    logging.getLogger("rasa.core.actions.forms").debug(
        f"The execution of 'action_extract_slots' resulted in these events: "
        f"SlotSet(key: going_well, value: {text})."
    )
    if text.startswith("fail"):
        raise RuntimeError(f"could not handle {text}")
    await message.output_channel.send_text_message(message.sender_id, "ok")


class StandInAgent:
    """Where Rasa's channels hand a message (rasa.core.agent.Agent.handle_message)."""

    handle_message = staticmethod(handle)


app = Sanic("channel_probe")
app.ctx.agent = StandInAgent()
register([AppInput.from_credentials(None)], app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=1, access_log=False)
