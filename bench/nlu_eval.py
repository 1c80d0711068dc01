#!/usr/bin/env python3
"""Evaluate PEP Voice's NLU on the held-out set (bench/data/nlu_heldout.yml).

Parses every held-out example with a trained model, prints per-intent precision, recall and
F1 and the macro-F1, writes docs/nlu/heldout_report.md, and exits 1 if macro-F1 is below
--min-f1 (default 0.95).

    # train an NLU model into /tmp, then evaluate:
    PYTHONPATH=. .venv/engine/bin/python bench/nlu_eval.py
    PYTHONPATH=. .venv/engine/bin/python bench/nlu_eval.py --model models/xyz.tar.gz

Training uses the project's config.yml; if its spaCy package (en_pep_voice) isn't installed
in the engine venv, a documented fallback pipeline is used and the report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _nlu_common import (
    DOCS,
    HELDOUT,
    NLU_DATA,
    PROJECT_CONFIG,
    ROOT,
    WORK,
    emulate_product_regex_handler,
    load_examples,
    resolve_config,
)


def train(config: Path, out: Path) -> Path:
    from rasa.model_training import train_nlu

    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    model = train_nlu(
        config=str(config), nlu_data=str(NLU_DATA), output=str(out), fixed_model_name="nlu-heldout"
    )
    if not model:
        sys.exit("NLU training failed")
    print(f"trained {model} in {time.time() - started:.0f}s")
    return Path(model)


def parse_all(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    import warnings

    from rasa.core.agent import Agent

    emulate_product_regex_handler()
    warnings.filterwarnings("ignore", message=".*Failed to parse arguments.*")
    agent = Agent.load(str(model))

    async def run() -> list[tuple[str, float]]:
        out = []
        for text in texts:
            result = await agent.parse_message(text)
            intent = result.get("intent") or {}
            out.append((intent.get("name") or "", float(intent.get("confidence") or 0.0)))
        return out

    return asyncio.run(run())


def scores(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold))
    table = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return table


def macro_f1(table: dict[str, dict[str, float]]) -> float:
    """The mean of the intents' F1 in a `scores` table."""
    return sum(r["f1"] for r in table.values()) / len(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--model", type=Path, help="a trained model (.tar.gz); default: train one into --out"
    )
    ap.add_argument("--config", type=Path, default=PROJECT_CONFIG)
    ap.add_argument(
        "--no-fallback", action="store_true", help="fail instead of using the fallback pipeline"
    )
    ap.add_argument("--out", type=Path, default=WORK / "models")
    ap.add_argument("--data", type=Path, default=HELDOUT)
    ap.add_argument("--report", type=Path, default=DOCS / "heldout_report.md")
    ap.add_argument("--min-f1", type=float, default=0.95)
    args = ap.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # otherwise every parse is printed
    logging.getLogger("rasa").setLevel(logging.WARNING)
    if args.model:
        model, config_note = args.model, f"given model `{args.model}`"
    else:
        config, config_note = resolve_config(args.config, allow_fallback=not args.no_fallback)
        model = train(config, args.out)

    examples = load_examples(args.data)
    gold = [i for i, _ in examples]
    parsed = parse_all(model, [t for _, t in examples])
    pred = [p for p, _ in parsed]
    table = scores(gold, pred)
    macro = macro_f1(table)
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    errors = [(g, p, c, t) for (g, t), (p, c) in zip(examples, parsed, strict=True) if g != p]
    confusions = Counter((g, p) for g, p, _, _ in errors)

    lines = [f"{'intent':22} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}"]
    for label, r in table.items():
        lines.append(
            f"{label:22} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['support']:4d}"
        )
    lines.append(f"{'macro-F1':22} {'':6} {'':6} {macro:6.3f} {len(gold):4d}")
    print("\n".join(lines))
    print(f"accuracy {accuracy:.3f}; {len(errors)} errors")
    for g, p, c, t in errors:
        print(f"  {g:>20} -> {p:<20} {c:.2f}  {t}")

    rel = args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data
    md = [
        "# NLU held-out evaluation",
        "",
        f"Generated by `bench/nlu_eval.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        ".",
        f"Held-out set: `{rel}` ({len(gold)} examples, written separately from `nlu_data/`).",
        f"Model: {config_note}.",
        "",
        f"**Macro-F1: {macro:.3f}** (threshold {args.min_f1:.2f}) — "
        f"accuracy {accuracy:.3f}, {len(errors)} errors.",
        "",
        "| intent | precision | recall | F1 | n |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in table.items():
        md.append(
            f"| {label} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
            f"| {r['support']} |"
        )
    md += ["", "## Confusions", ""]
    if confusions:
        md += ["| gold | predicted | count |", "|---|---|---:|"]
        md += [f"| {g} | {p} | {n} |" for (g, p), n in confusions.most_common()]
        md += [
            "",
            "## Errors",
            "",
            "| gold | predicted | confidence | text |",
            "|---|---|---:|---|",
        ]
        md += [f"| {g} | {p} | {c:.2f} | {t.replace('|', '/')} |" for g, p, c, t in errors]
    else:
        md.append("None.")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"wrote {args.report}")
    if macro < args.min_f1:
        print(f"FAIL: macro-F1 {macro:.3f} < {args.min_f1}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
