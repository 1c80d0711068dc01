"""The action server is unreachable: Rasa drops the turn silently, so the channels must notice.

Rasa logs the failed action and carries on, answering the REST call with nothing. An answer
sent then is not saved; the channel client turns the empty reply into "couldn't save that,
please send it again", and the same text sent again once the server is back is saved.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.engine_client import EngineUnavailable, send_to_engine
from tests.integration.stack import Stack

pytestmark = pytest.mark.engine


def test_an_answer_sent_while_the_action_server_is_down_is_asked_again(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=5)
    sender = f"down-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    stack.say(sender, "😐 OK")

    stack.stop_actions()
    try:
        assert stack.say(sender, "the new climbing frame") == []
        stack.use_store()
        with pytest.raises(EngineUnavailable):
            asyncio.run(send_to_engine(sender, "the new climbing frame"))
        assert "going_well" not in stack.answers(pep_id)
    finally:
        stack.start_actions()

    replies = stack.texts(sender, "the new climbing frame")
    assert replies[-1] == "What's something you're proud of?"
    assert stack.answers(pep_id)["going_well"].text == "the new climbing frame"
