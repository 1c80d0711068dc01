"""pep_engine.logs: what children type never reaches the engine's log, at any level.

The lines below are Rasa 3.6.21's own, as a real engine logged them at DEBUG (the words a
test child typed replaced by CHILD). The engine process itself is tested end to end in
tests/integration/test_callers.py; here the redaction runs in the app's environment, which
has no Rasa (pep_engine.logs imports none) and without installing anything globally.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from pep_engine.logs import (
    REDACTED,
    WITHHELD_LINE,
    RedactChildText,
    format_exception_withheld,
    handling,
    redact_structlog_event,
    redact_text,
)

CHILD = "the purple giraffe mural we painted"

#: structlog events as Rasa's JSONRenderer writes them (one line each).
STRUCTLOG_LINES = [
    {
        "event": "processor.message.parse",
        "parse_data_text": CHILD,
        "parse_data_intent": {"name": "inform", "confidence": 0.98},
        "parse_data_entities": [{"entity": "SUBJECT", "value": CHILD}],
        "level": "debug",
    },
    {"event": "processor.slots.log", "slot_values": f"\tgoing_well: {CHILD}", "level": "debug"},
    {
        "event": "processor.actions.log",
        "action_name": "validate_reflection_form",
        "rasa_events": [f"SlotSet(key: going_well, value: {CHILD})"],
        "level": "debug",
    },
    {"event": "rest.message.received.failure", "text": CHILD, "level": "error"},
    {
        "event": "memoization.predict.actions",
        "tracker_states": [{"slots": {"going_well": (1.0,)}}],
        "level": "debug",
    },
]

#: Rasa's plain lines that carry text or tracker contents (rasa/core/actions/forms.py,
#: rasa/core/actions/action.py, rasa/core/processor.py, rasa/shared/core/slots.py).
PLAIN_LINES = [
    "The execution of 'action_extract_slots' resulted in these events: "
    f"SlotSet(key: going_well, value: {CHILD})\nSlotSet(key: requested_slot, value: x).",
    "Failed to execute custom action 'validate_reflection_form' as a result of error "
    f"'403, Forbidden, body='b'{{\"tracker\": \"{CHILD}\"}}''. The default action "
    "'action_extract_slots' failed to fill slots with custom mappings.",
    f'Invalid entity specification: {{"code": "{CHILD}"}}. Assuming no entities.',
    f"Categorical slot 'answered_by' is set to a value ('{CHILD}') that is not specified "
    "in the domain. Value will be ignored and the slot will behave as if no value is set.",
]


@pytest.mark.parametrize("event", STRUCTLOG_LINES, ids=lambda e: e["event"])
def test_structlog_events_lose_their_content(event: dict[str, object]) -> None:
    line = json.dumps(event)
    redacted = redact_text(line)
    assert "giraffe" not in redacted
    assert json.loads(redacted)["event"] == event["event"]  # still says what happened

    processed = redact_structlog_event(None, "debug", dict(event))
    assert "giraffe" not in json.dumps(processed)


@pytest.mark.parametrize("line", PLAIN_LINES, ids=lambda line: line[:30])
def test_rasas_plain_lines_lose_their_content(line: str) -> None:
    redacted = redact_text(line)
    assert "giraffe" not in redacted
    assert REDACTED in redacted


def test_an_exception_keeps_its_type_and_frames_but_not_its_message() -> None:
    def fail() -> None:
        try:
            raise KeyError(CHILD)
        except KeyError as error:
            raise RuntimeError(f"could not save {CHILD}") from error

    try:
        fail()
    except RuntimeError as error:
        text = format_exception_withheld(type(error), error, error.__traceback__)
        event = redact_structlog_event(None, "error", {"event": "x", "exc_info": error})
    assert "giraffe" not in text
    assert "KeyError (message withheld)" in text
    assert "RuntimeError (message withheld)" in text
    assert "in fail" in text  # the frames are kept
    assert event["exception"].startswith("RuntimeError (message withheld) at test_logs.py:")
    assert "exc_info" not in event
    # The rendered line passes the logging filter too: it is left as it is.
    line = json.dumps(dict(event))
    assert json.loads(redact_text(line))["exception"] == event["exception"]


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger at DEBUG whose handler carries the filter, as the engine's root handlers do."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactChildText())
    logger = logging.getLogger("rasa.test_pep_engine_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def test_the_filter_redacts_at_debug_and_withholds_exception_messages(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.debug("%s", PLAIN_LINES[0])
    try:
        raise ValueError(CHILD)
    except ValueError:
        logger.exception("Encountered an exception while running action 'x'.")
    written = out.getvalue()
    assert "giraffe" not in written
    assert "ValueError (message withheld)" in written
    assert "Encountered an exception while running action 'x'." in written


def test_the_text_being_handled_is_removed_from_any_line(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    typed = 'Mum said "don\'t tell" \u2013 purple giraffe'  # a dash: escaped in JSON
    with handling(typed):
        logger.debug("a line no one listed: %s", typed)
        logger.debug("as JSON: %s", json.dumps({"t": typed}))
        logger.debug("as repr: %r", [typed])
        logger.debug("an ordinary line")
    logger.debug("after the turn: purple giraffe")  # outside the turn the net is off
    lines = out.getvalue().splitlines()
    assert all("giraffe" not in line for line in lines[:3]), lines
    assert lines[3] == "an ordinary line"
    assert lines[4] == "after the turn: purple giraffe"


def test_short_texts_are_not_hunted_in_ordinary_words() -> None:
    with handling("no"):
        assert redact_text("No event broker configured") == "No event broker configured"


def test_a_line_that_cannot_be_checked_is_withheld(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    logger.error(Unprintable())
    assert out.getvalue().strip() == WITHHELD_LINE
