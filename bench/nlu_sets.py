"""Intent macro-F1 of one model on every held-out set and its misspelled twin (issue 12).

    PYTHONPATH=. .venv/engine/bin/python bench/nlu_sets.py --model models/current.tar.gz \
        --label pep-voice --json var/bench/nlu-pep-voice.json

The sets: bench/data/nlu_heldout*.yml (the first two were used while writing the training
data; blind_a and blind_b were written blind and then used to find gaps; blind_c was written
blind and measured once, after the last change) and bench/data/misspelled/ (each set with
real children's misspellings, bench/misspell_heldout.py). For each: macro-F1, accuracy,
safeguarding recall, and macro-F1 on the "novel" examples only (those whose words, ignoring
case and punctuation, are not a training sentence: blind writers also type "hi" and "yes").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from _nlu_common import ROOT, load_examples, normalise
from nlu_eval import macro_f1, parse_all, scores

SETS = sorted((ROOT / "bench" / "data").glob("nlu_heldout*.yml"))
MISSPELLED = ROOT / "bench" / "data" / "misspelled"
DISCLOSURE = "safeguarding_concern"


def evaluate(
    examples: list[tuple[str, str]], pred: list[str], training: set[str]
) -> dict[str, object]:
    gold = [i for i, _ in examples]
    novel = [k for k, (_, t) in enumerate(examples) if normalise(t) not in training]
    disclosures = [k for k, g in enumerate(gold) if g == DISCLOSURE]
    return {
        "examples": len(gold),
        "macro_f1": round(macro_f1(scores(gold, pred)), 3),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold), 3),
        "safeguarding_recall": round(
            sum(pred[k] == DISCLOSURE for k in disclosures) / max(1, len(disclosures)), 3
        ),
        "novel_examples": len(novel),
        "novel_macro_f1": round(
            macro_f1(scores([gold[k] for k in novel], [pred[k] for k in novel])), 3
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--label", default="pep-voice")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    training = {normalise(t) for _, t in load_examples(*sorted((ROOT / "nlu_data").rglob("*.yml")))}
    results: dict[str, object] = {}
    print(f"{'set':32} {'n':>4} {'macro-F1':>9} {'novel':>7} {'acc':>6} {'SG recall':>10}")
    files = {
        name: file
        for path in SETS
        for name, file in ((path.stem, path), (path.stem + "~misspelled", MISSPELLED / path.name))
        if file.exists()
    }
    examples = {name: load_examples(file) for name, file in files.items()}
    # One load of the model for every set: parse all their texts at once.
    parsed = iter(parse_all(args.model, [t for ex in examples.values() for _, t in ex]))
    for name, ex in examples.items():
        r = evaluate(ex, [next(parsed)[0] for _ in ex], training)
        results[name] = r
        print(
            f"{name:32} {r['examples']:>4} {r['macro_f1']:>9.3f} {r['novel_macro_f1']:>7.3f}"
            f" {r['accuracy']:>6.3f} {r['safeguarding_recall']:>10.3f}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"label": args.label, "model": str(args.model), "sets": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
