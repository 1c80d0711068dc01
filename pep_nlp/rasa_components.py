"""PEP Voice's Rasa 3.6 NLU components, in the order config.yml runs them:

- `PepIntentClassifier`: the intent classifier (pep_nlp.intent_model), the only trained one;
- `ControlPhraseGate`: a control intent the classifier is unsure of, said with an answer in
  it, becomes `inform` (pep_nlp.control_gate);
- `SafeguardingOverride`: when the deterministic screen (pep_nlp.safeguarding) matches, the
  intent becomes `safeguarding_concern` with confidence 1.0, first in `intent_ranking`, and
  an entity `safeguarding_category` carries the category for the dialogue. Messages that do
  not match are left exactly as they were.

Nothing here logs message text: only intents, category and rule id. The only module of
pep_nlp that imports rasa (the app does not have it installed).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from pep_nlp.contract import Entity, Intent
from pep_nlp.control_gate import ControlGate, default_gate
from pep_nlp.disclosure_policy import DISCLOSURE_AT, disclosure_first
from pep_nlp.intent_model import IntentModel
from pep_nlp.safeguarding import (
    ASK_FIRST_ROLE,
    DEFAULT_LEXICON,
    Finding,
    SafeguardingScreen,
    default_screen,
)

logger = logging.getLogger(__name__)
_RANKING_LENGTH = 10  # Rasa's own classifiers report the top ten

INTENT_NAME = Intent.safeguarding_concern
CATEGORY_ENTITY = Entity.safeguarding_category


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class PepIntentClassifier(GraphComponent, IntentClassifier):  # type: ignore[misc]
    """The intent classifier (pep_nlp.intent_model): reads the message text itself, so it
    needs no featurizer before it, and no TensorFlow."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # A disclosure this likely is read as one, whatever is likelier (disclosure_policy).
        return {"disclosure_at": DISCLOSURE_AT}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentModel | None = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._disclosure_at = float(self.component_config["disclosure_at"])
        self._storage, self._resource, self._model = model_storage, resource, model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PepIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PepIntentClassifier:
        with model_storage.read_from(resource) as folder:
            return cls(config, model_storage, resource, IntentModel.load(folder))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            (m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples if m.get(TEXT)
        ]
        self._model = IntentModel.train([t for t, _ in examples], [i for _, i in examples])
        with self._storage.write_to(self._resource) as folder:
            self._model.save(folder)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages  # an NLU-less model: nothing was trained
        texts = [m.get(TEXT) or "" for m in messages]
        for message, ranking in zip(messages, self._model.rank(texts), strict=True):
            ranking = disclosure_first(ranking, self._disclosure_at)
            ranked = [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: p} for n, p in ranking]
            message.set(INTENT, dict(ranked[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked[:_RANKING_LENGTH], add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ControlPhraseGate(GraphComponent, IntentClassifier):  # type: ignore[misc]
    """Keeps a control intent (skip, stop, change...) only for a plain control phrase.

    Place it after the intent classifier and before SafeguardingOverride. A message the classifier
    reads as a control intent but that carries content becomes `inform`, so the form saves
    the child's words as their answer; a whole message that is certainly a control ("gtg")
    becomes that control (pep_nlp.control_gate).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The phrase lists cannot know every way a child asks for help or a change; a
        # reading the classifier is this sure of stands (docs/nlu/README.md measures it).
        return {"trusted_at": 1.0}

    def __init__(self, config: dict[str, Any], gate: ControlGate) -> None:
        self.component_config = {**self.get_default_config(), **config}
        self._gate = gate
        self._trusted_at = float(self.component_config["trusted_at"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ControlPhraseGate:
        return cls(config, default_gate())  # a malformed phrases file stops the start-up

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, text = intent.get(INTENT_NAME_KEY), message.get(TEXT)
            if not isinstance(name, str) or not isinstance(text, str):
                continue
            confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0)
            gated = self._gate.gated_intent(name, text, confidence, self._trusted_at)
            if gated != name:
                _promote(message, gated, confidence)
                logger.info("Control phrase gate: %s read as %s", name, gated)
        return messages


def _promote(message: Message, name: str, confidence: float) -> None:
    """Make `name` the intent, first in the ranking, at the confidence the top guess had."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    others = [
        ranked
        for ranked in message.get(INTENT_RANKING_KEY) or []
        if ranked.get(INTENT_NAME_KEY) != name
    ]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(intent), *others], add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafeguardingOverride(GraphComponent, IntentClassifier):  # type: ignore[misc]
    """Forces `safeguarding_concern` whenever the deterministic screen flags a message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # lexicon_path: a school's own lexicon file; None uses the one shipped with pep_nlp.
        return {"lexicon_path": None}

    def __init__(self, config: dict[str, Any], screen: SafeguardingScreen) -> None:
        self.component_config = config
        self._screen = screen

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafeguardingOverride:
        # Build the screen now, so a malformed lexicon stops the engine at start-up rather
        # than failing on a child's message.
        lexicon = config.get("lexicon_path")
        if lexicon is None or Path(lexicon) == DEFAULT_LEXICON:
            screen = default_screen()
        else:
            from pep_nlp.pipeline import load_pipeline

            screen = SafeguardingScreen(load_pipeline(), Path(lexicon))
        return cls(config, screen)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            finding = self._screen_message(message)
            if finding is not None:
                _override(message, finding)
                logger.info(
                    "Safeguarding override: category=%s rule=%s ask_first=%s",
                    finding.category,
                    finding.rule,
                    finding.ask_first,
                )
        return messages

    def _screen_message(self, message: Message) -> Finding | None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text.strip():
            return None
        # SpacyNLP leaves its doc on the message; reuse it instead of tokenising again.
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is not None:
            return self._screen.check_doc(doc)
        return self._screen.check(text)


def _override(message: Message, finding: Finding) -> None:
    text = message.get(TEXT)
    intent = {INTENT_NAME_KEY: INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
    # Keep the classifier's other guesses for debugging, but at confidence 0: a
    # FallbackClassifier later in the pipeline compares the top two confidences and would
    # otherwise call a 1.0 vs 0.99 ranking "ambiguous" and replace the override.
    others = [
        {INTENT_NAME_KEY: ranked.get(INTENT_NAME_KEY), PREDICTED_CONFIDENCE_KEY: 0.0}
        for ranked in message.get(INTENT_RANKING_KEY) or []
        if ranked.get(INTENT_NAME_KEY) != INTENT_NAME
    ]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(intent), *others], add_to_output=True)
    entities = [
        e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) != CATEGORY_ENTITY
    ]
    entity = {
        ENTITY_ATTRIBUTE_TYPE: CATEGORY_ENTITY,
        ENTITY_ATTRIBUTE_VALUE: finding.category,
        ENTITY_ATTRIBUTE_START: 0,
        ENTITY_ATTRIBUTE_END: len(text),
        EXTRACTOR: SafeguardingOverride.__name__,
    }
    if finding.ask_first:  # the dialogue checks with the child before alerting anyone
        entity[ENTITY_ATTRIBUTE_ROLE] = ASK_FIRST_ROLE
    entities.append(entity)
    message.set(ENTITIES, entities, add_to_output=True)
