"""Tags for an answer: the school subjects and kinds of support the child mentions.

Uses the same spaCy pipeline as the engine (pep_nlp), so a tag means the same everywhere.
Tags sit beside the child's words; they never replace or alter them.
"""

from __future__ import annotations

from pep_nlp.pipeline import load_pipeline


def tags_for(text: str) -> list[str]:
    doc = load_pipeline()(text)
    tags: list[str] = []
    for ent in doc.ents:
        tag = f"{ent.label_.lower()}:{ent.ent_id_ or ent.text.lower()}"
        if tag not in tags:
            tags.append(tag)
    return tags
