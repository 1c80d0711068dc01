"""The bot's wording as the domain writes it, for the app's own uses of the same words.

The web chat recognises the safeguarding replies by their text and the alert email tells the
lead what the child was told: both read it here, so it is never copied into Python. The
domain is the directory of files Rasa merges (domain/: the hand-written pep_voice.yml and
questions.yml, generated from bot/questions.py); a single file is read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.questions import WORDING_PREFIXES, Question
from bot.settings import REPO_ROOT

#: What `rasa train --domain` is given.
DOMAIN_PATH = REPO_ROOT / "domain"

_MAPPINGS = ("slots", "forms", "responses")  # merged by name
_LISTS = ("intents", "entities", "actions")  # joined, each name once


def _domain_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())
    return [path]


def _name(item: Any) -> Any:
    return next(iter(item)) if isinstance(item, dict) else item


@lru_cache(maxsize=4)
def domain(path: Path = DOMAIN_PATH) -> dict[str, Any]:
    """The whole domain as Rasa merges its files: slots, forms and responses by name; intents,
    entities and actions joined; anything else from the first file that has it."""
    merged: dict[str, Any] = {}
    for file in _domain_files(path):
        with open(file, encoding="utf-8") as fh:
            content = yaml.safe_load(fh) or {}
        for key, value in content.items():
            if key in _MAPPINGS:
                merged.setdefault(key, {}).update(value or {})
            elif key in _LISTS:
                known = {_name(item) for item in merged.setdefault(key, [])}
                merged[key] += [item for item in value or [] if _name(item) not in known]
            else:
                merged.setdefault(key, value)
    return merged


def responses(path: Path = DOMAIN_PATH) -> dict[str, list[dict[str, Any]]]:
    """Every response in the domain, by name."""
    return {
        name: [v for v in variants or [] if isinstance(v, dict)]
        for name, variants in (domain(path).get("responses") or {}).items()
    }


def _for_phase(variants: list[dict[str, Any]], phase: str | None) -> dict[str, Any] | None:
    """The variant Rasa picks for a child in this phase: the one whose condition names the
    phase, else the one with no condition."""
    for variant in variants:
        conditions = variant.get("condition") or []
        if phase is not None and any(
            c.get("name") == "phase" and c.get("value") == phase for c in conditions
        ):
            return variant
    return next((v for v in variants if not v.get("condition")), None)


def response_texts(name: str, path: Path = DOMAIN_PATH) -> list[str]:
    """The text of each variant of one response, in the domain's order; [] if it has none."""
    return [str(v["text"]).strip() for v in responses(path).get(name, []) if v.get("text")]


def response_text(name: str, *, phase: str | None = None, path: Path = DOMAIN_PATH) -> str:
    """One response's text for a phase: the variant whose condition names the phase, else the
    variant with no condition. KeyError if the domain has no such response."""
    variants = [v for v in responses(path).get(name, []) if v.get("text")]
    if not variants:
        raise KeyError(name)
    chosen = _for_phase(variants, phase) or variants[0]
    return str(chosen["text"]).strip()


def missing_wordings(questions: Iterable[Question], path: Path = DOMAIN_PATH) -> list[str]:
    """What the domain still lacks for these questions, e.g. "utter_simpler_proud (ks1_2)":
    each needs every response the actions say it with (WORDING_PREFIXES), with a variant for
    every phase it is asked in."""
    known = responses(path)
    missing: list[str] = []
    for question in questions:
        for prefix in WORDING_PREFIXES:
            name = f"{prefix}{question.key}"
            variants = [v for v in known.get(name, []) if v.get("text")]
            if not variants:
                missing.append(name)
                continue
            gaps = sorted(p.value for p in question.phases if _for_phase(variants, p) is None)
            if gaps:
                missing.append(f"{name} ({', '.join(gaps)})")
    return missing
