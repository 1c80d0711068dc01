"""Shared helpers for PEP Voice's NLU benchmarks (bench/nlu_eval.py, bench/nlu_cv.py).

Run with the engine's python (.venv/engine/bin/python) and PYTHONPATH=<repo>.
"""

from __future__ import annotations

import importlib.util
import string
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds scripts, run as `python bench/x.py` with either venv: the shared names come
# from the repository's pep_nlp, which the engine venv does not install.
sys.path.insert(0, str(ROOT))
from pep_nlp.contract import INTENTS  # noqa: E402
from pep_nlp.nlu_examples import load_examples  # noqa: E402,F401  (the benchmarks' one reader)

PROJECT_CONFIG = ROOT / "config.yml"
NLU_DATA = ROOT / "nlu_data"
HELDOUT = ROOT / "bench" / "data" / "nlu_heldout.yml"
DOCS = ROOT / "docs" / "nlu"
WORK = Path("/tmp/pep_nlu_bench")

# Used only when the project config needs a spaCy package the engine venv doesn't have yet
# (en_pep_voice is built by `make setup`): the project's intent pipeline on whitespace tokens
# (no spaCy entities, which the intent figures do not use).
FALLBACK_PIPELINE = """\
recipe: default.v1
language: en
assistant_id: pep-voice-nlu-bench
pipeline:
  - name: WhitespaceTokenizer
  - name: pep_nlp.rasa_components.PepIntentClassifier
  - name: pep_nlp.rasa_components.ControlPhraseGate
    trusted_at: 0.5
  - name: pep_nlp.rasa_components.SafeguardingOverride
policies: []
"""


def emulate_product_regex_handler() -> None:
    """Make "/start K7QM-4TXP" reach the classifier, as it does in the product.

    Rasa reads a message starting with "/" as "/<intent>". In the full model the domain is
    known, "start K7QM-4TXP" is not one of its intents, so Rasa warns and classifies the text.
    An NLU-only model has no domain and would return the intent "start K7QM-4TXP"; give the
    handler the contract's intents so the benchmark sees what the product sees.
    """
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    domain = Domain.from_dict({"intents": sorted(INTENTS)})
    original = YAMLStoryReader._intent_name_from_regex_match

    def with_domain(match, given_domain):  # type: ignore[no-untyped-def]
        return original(match, given_domain or domain)

    YAMLStoryReader._intent_name_from_regex_match = staticmethod(with_domain)  # type: ignore[method-assign]


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = text.translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


def resolve_config(config: Path, allow_fallback: bool = True) -> tuple[Path, str]:
    """The config to use and a note saying which one it is.

    If the config loads a spaCy package (SpacyNLP) that isn't importable, fall back to
    FALLBACK_PIPELINE written to WORK/config_fallback.yml, and say so.
    """
    data = yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else None
    missing = None
    if data:
        for comp in data.get("pipeline") or []:
            if comp.get("name") == "SpacyNLP":
                model = comp.get("model", "en_core_web_md")
                if importlib.util.find_spec(model) is None:
                    missing = model
    else:
        missing = f"{config} (not found)"
    if missing is None:
        shown = config.relative_to(ROOT) if config.is_relative_to(ROOT) else config
        return config, f"project config `{shown}`"
    if not allow_fallback:
        sys.exit(f"config needs {missing}, which is not installed; rerun without --no-fallback")
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "config_fallback.yml"
    path.write_text(FALLBACK_PIPELINE, encoding="utf-8")
    note = (
        f"FALLBACK pipeline (WhitespaceTokenizer + the project's classifier, gate and screen, "
        f"no spaCy), because `{missing}` is not installed in the engine venv"
    )
    print(f"warning: {note}", file=sys.stderr)
    return path, note
