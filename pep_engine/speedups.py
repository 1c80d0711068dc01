"""Work Rasa 3.6 repeats on every turn, done once instead. Behaviour is unchanged.

- Rasa checks each action server reply against a JSON schema with `jsonschema.validate`,
  which first validates the *schema itself* against the JSON Schema metaschema and builds a
  new validator, on every call. A PEP Voice turn calls the action server 2-4 times, and
  under load that check took 55 % of the engine's CPU (docs/benchmarks.md, py-spy). Here the
  schema is checked once and its validator reused: same schema, same errors, same message.
- Reading a stored conversation turns each event's name into its class by walking every
  subclass of `Event` (`Event.resolve_by_type`), for every event of every turn: 8 % of the
  engine's CPU once the first fix was in. Here each name is looked up that way once.
- Every call to the action server opened a new aiohttp session and connection and closed it
  again (`EndpointConfig.request`): 13 % of the engine's CPU. Here each endpoint keeps one
  session (and its keep-alive connections) per event loop; requests are unchanged.

`pep_engine.channel` installs this when Rasa imports the channel at start-up, together with
pep_engine.action_calls (which does change what the action server is sent).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _validate_replies_with_one_validator()
    _remember_event_classes()
    _keep_endpoint_sessions()
    _installed = True


def _validate_replies_with_one_validator() -> None:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def _remember_event_classes() -> None:
    resolve = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if type_name in found:
            return found[type_name]
        # Unknown names fail, or give the default, as before.
        event_class: type[Event] | None = resolve(type_name, default)
        if event_class is not None and event_class.type_name == type_name:
            found[type_name] = event_class
        return event_class

    Event.resolve_by_type = staticmethod(resolve_by_type)


class _KeptSession:
    """`async with` gives the endpoint's session and leaves it open for the next request."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def _keep_endpoint_sessions() -> None:
    new_session = EndpointConfig.session
    kept: dict[int, tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}

    def session(self: EndpointConfig) -> _KeptSession:
        # A session belongs to its event loop: the engine runs one, tests may run several.
        loop = asyncio.get_running_loop()
        found = kept.get(id(self))
        if found is None or found[0] is not loop or found[1].closed:
            found = kept[id(self)] = (loop, new_session(self))
        return _KeptSession(found[1])

    EndpointConfig.session = session
