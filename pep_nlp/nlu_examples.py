"""The examples in Rasa 3 NLU YAML files, for the data generator and the benchmarks.

Both read the hand-written training data and the held-out sets the same way: (intent, text)
pairs, no entity annotations expected.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def load_examples(*paths: Path) -> list[tuple[str, str]]:
    pairs = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((block["intent"], line[2:].strip()))
    return pairs
