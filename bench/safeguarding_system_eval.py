"""Both detection lines together, through the trained engine model.

Run with the ENGINE python after `make train`:
    PYTHONPATH=. .venv/engine/bin/python bench/safeguarding_system_eval.py [--model M]
Parses every text of bench/data/safeguarding_eval.yml and of the four fresh probe sets
(tests/pep_nlp/test_probe_regressions.py) with the full NLU pipeline — the classifier
plus the deterministic override — and reports, per set: how many disclosures come out as
`safeguarding_concern` (recall), split by which line caught them, and how many benign
lookalikes do (false alarms). Only counts and ids are printed, never the texts.

The classifier never saw any of these sets (they were written by a different engineer from
its training data); the screen's lexicon was tuned on both (see docs/safeguarding.md), so
the classifier-only column is the honest measure of the second line.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "bench" / "data" / "safeguarding_eval.yml"
PROBES = ROOT / "tests" / "pep_nlp" / "test_probe_regressions.py"


def _probe_lists() -> tuple[list[str], list[str]]:
    """The probe sets are plain list literals; read them without importing pytest code."""
    tree = ast.parse(PROBES.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("PROBE_DISCLOSURES", "PROBE_LOOKALIKES"):
                found[name] = [
                    item if isinstance(item, str) else item[0]
                    for item in ast.literal_eval(node.value)
                ]
    return found["PROBE_DISCLOSURES"], found["PROBE_LOOKALIKES"]


async def _flags(agent: object, texts: list[str]) -> list[tuple[bool, bool]]:
    """(flagged at all, flagged by the deterministic screen) for each text."""
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)  # type: ignore[attr-defined]
        flagged = parsed["intent"]["name"] == "safeguarding_concern"
        by_screen = any(e["entity"] == "safeguarding_category" for e in parsed["entities"])
        out.append((flagged, by_screen))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    args = parser.parse_args()
    from rasa.core.agent import Agent  # the engine's own loading code

    agent = Agent.load(str(args.model))
    data = yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))
    eval_disclosures = [t for group in data["disclosures"].values() for t in group.values()]
    eval_benign = [t for group in data["benign"].values() for t in group.values()]
    probe_disclosures, probe_benign = _probe_lists()

    report = {}
    for name, disclosures, benign in (
        ("evaluation set", eval_disclosures, eval_benign),
        ("fresh probes", probe_disclosures, probe_benign),
    ):
        hits = asyncio.run(_flags(agent, disclosures))
        alarms = asyncio.run(_flags(agent, benign))
        report[name] = {
            "disclosures": len(disclosures),
            "recall": round(sum(f for f, _ in hits) / len(hits), 3),
            "caught_by_screen": sum(s for _, s in hits),
            "caught_by_classifier_only": sum(f and not s for f, s in hits),
            "missed": sum(not f for f, _ in hits),
            "benign": len(benign),
            "false_alarm_rate": round(sum(f for f, _ in alarms) / len(alarms), 3),
            "false_alarms_by_classifier_only": sum(f and not s for f, s in alarms),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
