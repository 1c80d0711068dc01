"""PEP Voice's own spaCy pipeline, built from source.

Official spaCy models cannot be downloaded where PEP Voice runs, and it needs none of their
statistical parts: a blank English tokenizer, a lookup lemmatizer (from spacy-lookups-data)
and an EntityRuler that tags school subjects and kinds of support from a data file.
The engine loads it as the installed package `en_pep_voice`; the app builds the same
pipeline in memory with `build_nlp()`.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

PACKAGE_NAME = "en_pep_voice"
DATA_DIR = Path(__file__).parent / "data"
ENTITY_PATTERNS = DATA_DIR / "entity_patterns.jsonl"


def load_entity_patterns(path: Path = ENTITY_PATTERNS) -> list[dict[str, Any]]:
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("//"):
            patterns.append(json.loads(line))
    return patterns


def build_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # Children type "MATHS", "Maths" and "maths": match phrases on lower-cased text.
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    # initialize() loads the lemma tables and clears the ruler, so patterns come after it.
    nlp.initialize()
    ruler.add_patterns(load_entity_patterns())  # type: ignore[attr-defined]
    nlp.meta.update(
        {
            "name": PACKAGE_NAME.removeprefix("en_"),
            "version": pipeline_version(),
            "description": "PEP Voice pipeline: tokenizer, lookup lemmatizer, entity ruler.",
            "license": "MIT",
        }
    )
    return nlp


def pipeline_version() -> str:
    """A version that changes whenever the pipeline's source changes, so rebuilds are exact."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(ENTITY_PATTERNS.read_bytes())
    digest.update(spacy.about.__version__.encode())
    return f"1.0.{int(digest.hexdigest()[:8], 16)}"


@lru_cache(maxsize=1)
def load_pipeline() -> Language:
    """The installed package when it matches this source, else the same pipeline built here."""
    try:
        nlp = spacy.load(PACKAGE_NAME)
    except OSError:
        return build_nlp()
    if nlp.meta.get("version") != pipeline_version():
        return build_nlp()
    return nlp
