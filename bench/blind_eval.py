"""Child safety on the blind probe sets: disclosures caught, false alerts, checks, control.

The sets in bench/data/blind/ were written by helpers who never saw the lexicon, the NLU
training data or the detector (issue 8): disclosures by category and phase, clean and
misspelled; ordinary answers to every question, harmless-but-alarming ones and answers that
carry a control word; plain control phrases; yes/no replies.

Two modes:
- screen only (app or engine python):   .venv/app/bin/python bench/blind_eval.py
- the whole NLU pipeline of a trained model, with the dialogue's decisions (engine python):
    PYTHONPATH=. .venv/engine/bin/python bench/blind_eval.py --model models/current.tar.gz
Prints counts and rates per set, never a child's text unless --show-errors is given (the
probes are invented, but the habit is kept). Writes the figures as JSON with --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pep_nlp.control_gate import CONTROL_INTENTS  # noqa: E402
from pep_nlp.disclosure_policy import Route, route_for  # noqa: E402
from pep_nlp.safeguarding import default_screen  # noqa: E402

BLIND = ROOT / "bench" / "data" / "blind"


@dataclass(frozen=True)
class Probe:
    set: str
    text: str
    expect: str  # disclosure | answer | <control intent> | affirm | deny
    category: str | None
    question: str | None
    phase: str | None
    misspelled: bool
    kind: str  # ordinary | lookalike | control_words | control | yes_no | disclosure


def load_probes(folder: Path = BLIND) -> list[Probe]:
    probes: list[Probe] = []
    for path in sorted(folder.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
            probes.append(_probe(path.stem, item))
    return probes


def _probe(name: str, item: dict[str, Any]) -> Probe:
    text = str(item["text"])
    common = {"set": name, "text": text, "phase": item.get("phase")}
    if name.startswith("disclosures") or item.get("expect") == "disclosure":
        return Probe(
            **common,
            expect="disclosure",
            category=item["category"],
            question=item.get("question"),
            misspelled=bool(item.get("misspelled")),
            kind="disclosure",
        )
    if "intent" in item:
        yes_no = item["intent"] in ("affirm", "deny")
        return Probe(
            **common,
            expect=item["intent"],
            category=None,
            question=None,
            misspelled=False,
            kind="yes_no" if yes_no else "control",
        )
    return Probe(
        **common,
        expect="answer",
        category=item.get("category"),
        question=item.get("question"),
        misspelled=bool(item.get("misspelled")),
        kind=item.get("kind", "lookalike"),
    )


@dataclass(frozen=True)
class Outcome:
    intent: str  # after the engine's gates and the screen
    confidence: float
    screen_category: str | None
    route: Route


def screen_outcomes(probes: Iterable[Probe]) -> list[Outcome]:
    screen = default_screen()
    outcomes = []
    for probe in probes:
        finding = screen.check(probe.text)
        intent = "safeguarding_concern" if finding else "inform"
        route = route_for(intent=intent, finding=finding)
        outcomes.append(Outcome(intent, 1.0, finding.category if finding else None, route))
    return outcomes


def engine_outcomes(probes: list[Probe], model: Path) -> list[Outcome]:
    from rasa.core.agent import Agent  # the engine's own loading code

    agent = Agent.load(str(model))
    screen = default_screen()

    async def parse_all() -> list[Outcome]:
        out = []
        for probe in probes:
            parsed = await agent.parse_message(probe.text)
            intent = parsed["intent"]["name"]
            confidence = float(parsed["intent"].get("confidence") or 0.0)
            finding = screen.check(probe.text)
            route = route_for(intent=intent, finding=finding)
            category = finding.category if finding else None
            out.append(Outcome(intent, confidence, category, route))
        return out

    return asyncio.run(parse_all())


def _rate(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def summarise(probes: list[Probe], outcomes: list[Outcome], engine: bool) -> dict[str, Any]:
    report: dict[str, Any] = {}
    by_set: dict[str, list[tuple[Probe, Outcome]]] = defaultdict(list)
    for pair in zip(probes, outcomes, strict=True):
        by_set[pair[0].set].append(pair)
    for name, pairs in sorted(by_set.items()):
        report[name] = _summarise_set(pairs, engine)
    return report


def _summarise_set(pairs: list[tuple[Probe, Outcome]], engine: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    disclosures = [(p, o) for p, o in pairs if p.expect == "disclosure"]
    if disclosures:
        for label, spelled in (("clean", False), ("misspelled", True)):
            group = [(p, o) for p, o in disclosures if p.misspelled == spelled]
            alerted = sum(o.route is Route.alert for _, o in group)
            checked = sum(o.route is Route.check for _, o in group)
            out[f"disclosures_{label}"] = {
                "n": len(group),
                "recall": _rate(alerted + checked, len(group)),
                "alerted_at_once": alerted,
                "checked_with_child": checked,
                "missed": len(group) - alerted - checked,
            }
        misses: Counter[str] = Counter(
            str(p.category) for p, o in disclosures if o.route is Route.answer
        )
        out["missed_by_category"] = dict(sorted(misses.items()))
        by_phase: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for p, o in disclosures:
            by_phase[str(p.phase)][0] += o.route is not Route.answer
            by_phase[str(p.phase)][1] += 1
        out["caught_by_phase"] = {k: f"{c}/{n}" for k, (c, n) in sorted(by_phase.items())}
    harmless = [(p, o) for p, o in pairs if p.expect != "disclosure"]
    if harmless:
        out["harmless"] = {
            "n": len(harmless),
            "immediate_false_alerts": sum(o.route is Route.alert for _, o in harmless),
            "checks": sum(o.route is Route.check for _, o in harmless),
            "check_rate": _rate(sum(o.route is Route.check for _, o in harmless), len(harmless)),
        }
        answers = [(p, o) for p, o in harmless if p.expect == "answer"]
        if answers and engine:
            taken = sum(o.intent in CONTROL_INTENTS for _, o in answers)
            out["answers"] = {
                "n": len(answers),
                "check_rate": _rate(sum(o.route is Route.check for _, o in answers), len(answers)),
                "taken_as_control": taken,
                "taken_as_control_rate": _rate(taken, len(answers)),
                "by_kind": {
                    kind: {
                        "n": sum(p.kind == kind for p, _ in answers),
                        "checks": sum(
                            p.kind == kind and o.route is Route.check for p, o in answers
                        ),
                        "control": sum(
                            p.kind == kind and o.intent in CONTROL_INTENTS for p, o in answers
                        ),
                    }
                    for kind in sorted({p.kind for p, _ in answers})
                },
            }
        commands = [(p, o) for p, o in harmless if p.expect not in ("answer", "disclosure")]
        if commands and engine:
            right = sum(o.intent == p.expect for p, o in commands)
            per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for p, o in commands:
                per_intent[p.expect][0] += o.intent == p.expect
                per_intent[p.expect][1] += 1
            out["commands"] = {
                "n": len(commands),
                "accuracy": _rate(right, len(commands)),
                "per_intent": {k: f"{r}/{n}" for k, (r, n) in sorted(per_intent.items())},
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="a trained model: run the whole pipeline")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--show-errors", action="store_true", help="print the texts got wrong")
    args = parser.parse_args()
    probes = load_probes()
    outcomes = engine_outcomes(probes, args.model) if args.model else screen_outcomes(probes)
    report = summarise(probes, outcomes, engine=args.model is not None)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.show_errors:
        for probe, outcome in zip(probes, outcomes, strict=True):
            wrong = (probe.expect == "disclosure") == (outcome.route is Route.answer) or (
                probe.expect == "answer" and outcome.intent in CONTROL_INTENTS
            )
            if probe.kind in ("control", "yes_no"):
                wrong = outcome.intent != probe.expect
            if wrong:
                print(
                    f"{probe.set}\t{probe.expect}\t{probe.question}\t{outcome.intent}"
                    f"\t{outcome.confidence:.2f}\t{outcome.route.value}\t{probe.text}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
