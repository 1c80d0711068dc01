"""Keep what children type out of the engine's logs, at every log level.

Rasa 3.6 logs user text and tracker contents in two ways, and Rasa Open Source redacts
neither:

* structlog events that carry the content under named keys: `processor.message.parse`
  (`parse_data_text`, `parse_data_entities`), `processor.slots.log` (`slot_values`: every
  answer so far), `processor.actions.log` (`rasa_events`: each SlotSet and BotUttered) at
  DEBUG, and `rest.message.received.failure` (`text`) at ERROR when a turn fails. Rasa lists
  these keys itself (`rasa.utils.log_utils._anonymizer`) but only Rasa Pro plugs in the
  pipeline that would anonymise them. An exception logged through structlog is rendered with
  every frame's local variables (`dict_tracebacks`, and rich tracebacks on a terminal, show
  locals): the message text, the tracker, the slots.
* plain log lines built with f-strings (`RASA_LINES`), e.g. the events a form's slot
  extraction produced; and exception messages (a failed action call's includes the response
  body).

`install()` (run when `pep_engine.channel` is imported, so when the engine starts) puts three
things in the way. None depends on the log level: switching on DEBUG makes the log longer,
never less careful.

1. A structlog processor, ahead of the renderer, that blanks those keys and turns an
   exception into its type and where it was raised.
2. A logging filter applied to every record as it is made (a log-record factory, so
   handlers added after start-up, `--log-file` or syslog, are covered too), and added to the
   root handlers and the `rasa` logger. It rewrites Rasa's lines that carry text, and JSON
   structlog lines that did not pass through 1; an exception keeps its type and traceback
   frames but loses its message. Python warnings are routed through logging, so through it.
3. A net: while the channel handles a message (`handling`), that message's text is removed
   wherever it appears in a record, for lines no one listed.

A record that cannot be checked is replaced by a notice rather than let through.

Nothing here imports Rasa, so the redaction can be tested in the app environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import traceback
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pep_nlp.contract import SLASH_GUARD as _SLASH_GUARD  # put before a typed "/..."

REDACTED = "[redacted]"
WITHHELD_LINE = "[log line withheld: it could not be checked for children's text]"

#: structlog keys that carry user content: Rasa 3.6's own list (`_anonymizer` in
#: rasa/utils/log_utils.py), and the request metadata a channel passes on.
SENSITIVE_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "metadata",
    }
)


def _line(pattern: str, keep: str = r"\1" + REDACTED) -> tuple[re.Pattern[str], str]:
    return re.compile(pattern, re.DOTALL), keep


#: Rasa 3.6's plain log lines (and warnings) that carry user text or tracker contents, with
#: the part to keep. Found by reading Rasa's source and checked against a real engine's
#: DEBUG log (tests/engine/test_logs.py holds the real lines).
RASA_LINES: tuple[tuple[re.Pattern[str], str], ...] = (
    # rasa.core.actions.forms, on form activation (DEBUG): SlotSet(key: ..., value: <answer>)
    _line(r"(resulted in these events: ).*"),
    # rasa.engine.runner.dask (DEBUG): the graph's inputs, a message or a whole tracker.
    _line(r"(Running graph with inputs: ).*?(, targets: )", r"\1" + REDACTED + r"\2"),
    # rasa.shared.core.events (WARNING): the parameters an event was built from.
    _line(r"(for multiple events\..*Parameters: ).*"),
    # rasa.core.actions.action, ActionExtractSlots (WARNING): str() of the error, which for
    # an action server's refusal includes the response body.
    _line(r"(as a result of error ').*('\. The default action)", r"\1" + REDACTED + r"\2"),
    # rasa.core.processor (warning): the entities of an "/intent{...}" message as sent.
    _line(
        r"(Invalid entity specification: ).*?(\. Assuming no entities)", r"\1" + REDACTED + r"\2"
    ),
    # rasa.shared.core.slots (warning): a categorical slot's value.
    _line(r"(is set to a value \(').*?('\) that is not specified)", r"\1" + REDACTED + r"\2"),
    # rasa.utils.endpoints.ClientResponseError, wherever its str() is logged: the body.
    _line(r"(body=').*(')", r"\1" + REDACTED + r"\2"),
)

# --- The net: the text of the message being handled ---------------------------------------

#: Shorter texts ("ok", "no") are left alone: they appear inside ordinary log words.
NET_MIN_LENGTH = 3
_handling: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "pep_voice_handling", default=()
)


def _forms_of(text: str) -> tuple[str, ...]:
    """`text` as a log line may show it: as sent, stripped, JSON-escaped, repr()'d."""
    found: set[str] = set()
    for form in {text, text.strip(), text.strip().removeprefix(_SLASH_GUARD)}:
        if len(form.strip()) < NET_MIN_LENGTH:
            continue
        found.update(
            {
                form,
                json.dumps(form)[1:-1],
                json.dumps(form, ensure_ascii=False)[1:-1],
                repr(form)[1:-1],
            }
        )
    # Longest first, so no shorter form leaves part of a longer one behind.
    return tuple(sorted(found, key=len, reverse=True))


@contextlib.contextmanager
def handling(text: object) -> Iterator[None]:
    """While the engine handles a message with `text`, keep `text` out of every record."""
    forms = _forms_of(text) if isinstance(text, str) else ()
    token = _handling.set(_handling.get() + forms)
    try:
        yield
    finally:
        _handling.reset(token)


# --- Redaction ------------------------------------------------------------------------------


def redact_text(message: str) -> str:
    """`message` without the user text and tracker contents Rasa's known lines carry."""
    as_json = _redact_json_line(message)
    if as_json is not None:
        message = as_json
    for pattern, keep in RASA_LINES:
        message = pattern.sub(keep, message)
    for form in _handling.get():
        message = message.replace(form, REDACTED)
    return message


def _redact_json_line(message: str) -> str | None:
    """A structlog event rendered as JSON, redacted; None if `message` is not one."""
    stripped = message.strip()
    if not (stripped.startswith("{") and stripped.endswith("}") and '"event"' in stripped):
        return None
    try:
        event = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(event, dict) or "event" not in event:
        return None
    return json.dumps(redact_event_dict(event))


def redact_event_dict(event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog event without its sensitive keys; an exception reduced to its type."""
    for key in SENSITIVE_KEYS.intersection(event_dict):
        event_dict[key] = REDACTED
    exc_info = event_dict.pop("exc_info", None)
    resolved = _resolve_exc_info(exc_info)
    if resolved is not None:
        event_dict["exception"] = describe_exception(*resolved)
    elif "exception" in event_dict:
        event_dict["exception"] = _withhold_rendered_exception(event_dict["exception"])
    return event_dict


def redact_structlog_event(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor (see the module's docstring, 1)."""
    try:
        return redact_event_dict(event_dict)
    except Exception:
        return {"event": WITHHELD_LINE}


ExcInfo = tuple[type[BaseException], BaseException | None, TracebackType | None]


def _resolve_exc_info(exc_info: Any) -> ExcInfo | None:
    if not exc_info:
        return None
    if isinstance(exc_info, BaseException):
        return type(exc_info), exc_info, exc_info.__traceback__
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[0] is not None:
        return exc_info
    if exc_info is True:
        import sys

        current = sys.exc_info()
        if current[0] is not None:
            return current
    return None


def _type_name(exc_type: type[BaseException]) -> str:
    module = exc_type.__module__
    return exc_type.__qualname__ if module == "builtins" else f"{module}.{exc_type.__qualname__}"


def describe_exception(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """One line: the exception's type and where it was raised, never its message."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}"
    return f"{_type_name(exc_type)} (message withheld){where if frames else ''}"


def format_exception_withheld(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """A traceback (chained ones too) with every exception's message withheld."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(
        e_type: type[BaseException], e: BaseException | None, e_tb: TracebackType | None
    ) -> None:
        if e is not None:
            seen.add(id(e))
            cause, context = e.__cause__, e.__context__
            if cause is not None and id(cause) not in seen:
                walk(type(cause), cause, cause.__traceback__)
                parts.append(
                    "\nThe above exception was the direct cause of the following exception:\n\n"
                )
            elif context is not None and not e.__suppress_context__ and id(context) not in seen:
                walk(type(context), context, context.__traceback__)
                parts.append(
                    "\nDuring handling of the above exception, another exception occurred:\n\n"
                )
        if e_tb is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(e_tb)))
        parts.append(f"{_type_name(e_type)} (message withheld)\n")

    walk(exc_type, exc, tb)
    return "".join(parts).rstrip("\n")


def _withhold_rendered_exception(rendered: Any) -> str:
    """An exception someone else already rendered: its type(s) only."""
    if isinstance(rendered, list):  # structlog's dict_tracebacks
        types = [str(e.get("exc_type", "?")) for e in rendered if isinstance(e, dict)]
        return " <- ".join(types or ["?"]) + " (message withheld)"
    if isinstance(rendered, str):
        if "(message withheld)" in rendered:  # ours (describe_exception), seen again
            return rendered
        return withhold_traceback_text(rendered)
    return REDACTED


def withhold_traceback_text(text: str) -> str:
    """A formatted traceback with its frames kept and every exception's message withheld."""
    kept = []
    for line in text.splitlines():
        if (
            not line
            or line[0].isspace()
            or line.startswith(
                ("Traceback (most recent call last)", "During handling", "The above")
            )
        ):
            kept.append(line)
        else:  # "package.Error: message"
            kept.append(line.split(":", 1)[0].strip() + " (message withheld)")
    return redact_text("\n".join(kept))


_MARK = "_pep_voice_redacted"


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite `record` in place (once) so that it carries no user text."""
    if getattr(record, _MARK, False):
        return
    try:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not match the format: keep the format only
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = ()
        if record.exc_info:
            exc_type, exc, tb = record.exc_info
            record.exc_text = format_exception_withheld(exc_type, exc, tb) if exc_type else None
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = withhold_traceback_text(record.exc_text)
    except Exception:
        record.msg, record.args = WITHHELD_LINE, ()
        record.exc_info, record.exc_text = None, None
    setattr(record, _MARK, True)


class RedactChildText(logging.Filter):
    """Lets every record through, without user text (`redact_record`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


# --- Installation -----------------------------------------------------------------------------

_FILTER = RedactChildText()
_installed = False
logger = logging.getLogger(__name__)


def install() -> None:
    """Redact every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(make_record)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_FILTER)
    logging.getLogger("rasa").addFilter(_FILTER)
    logging.captureWarnings(True)
    _install_structlog_processor()
    if logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
        logger.warning(
            "DEBUG logging is on. What children type, and what the engine keeps of their "
            "conversations, is still withheld from the log (pep_engine.logs)."
        )


def _install_structlog_processor() -> None:
    try:
        import structlog
    except ImportError:
        return
    processors = structlog.get_config()["processors"]
    if any(p is redact_structlog_event for p in processors):
        return
    renders_exceptions = getattr(structlog.processors, "ExceptionRenderer", ())
    position = next(
        (i for i, p in enumerate(processors) if isinstance(p, renders_exceptions)),
        max(len(processors) - 1, 0),  # else just before the renderer
    )
    if isinstance(processors, list):
        # In place: loggers Rasa already used (cache_logger_on_first_use) hold this list.
        processors.insert(position, redact_structlog_event)
    else:
        updated = list(processors)
        updated.insert(position, redact_structlog_event)
        structlog.configure(processors=updated)
