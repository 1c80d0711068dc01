"""Markdown tables for docs/benchmarks.md from `make bench`'s raw figures (var/bench/*.json).

.venv/app/bin/python bench/tables.py [--dir var/bench]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def full_stack(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| run | path | children | turns | errors | p50 ms | p95 ms | p99 ms | msg/s "
        "| turn 60 / turn 5 | engine RSS MiB after | CPU % engine / actions / app |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        for r in run["results"]:
            seconds = r["wall_s"] or 1
            cpu = " / ".join(
                f"{100 * r['cpu_s'].get(k, 0) / seconds:.0f}" for k in ("engine", "actions", "app")
            )
            rss = r["engine_memory_kib"].get("after", {}).get("VmRSS", 0) // 1024
            lines.append(
                f"| {run['label']} | {r['path']} | {r['concurrency']} | {r['count']} "
                f"| {r['errors']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} "
                f"| {r['messages_per_s']:.1f} | {r['turn_ratio'].get('ratio', '-')} | {rss} "
                f"| {cpu} |"
            )
    return "\n".join(lines)


def nlu(project: dict[str, Any], peer: dict[str, Any] | None) -> str:
    lines = [
        "| set | examples | PEP Voice macro-F1 | novel | safeguarding recall "
        "| peer macro-F1 | peer safeguarding recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in project["sets"].items():
        p = (peer or {}).get("sets", {}).get(name, {})
        peer_f1, peer_recall = p.get("macro_f1", float("nan")), p.get("safeguarding_recall", 0)
        lines.append(
            f"| {name.removeprefix('nlu_heldout').lstrip('_') or 'heldout'} | {r['examples']} "
            f"| {r['macro_f1']:.3f} | {r['novel_macro_f1']:.3f} | {r['safeguarding_recall']:.3f} "
            f"| {peer_f1:.3f} | {peer_recall:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("var/bench"))
    folder = parser.parse_args().dir
    capacity = [load(folder / f"full_stack-{n}.json") for n in ("pep-voice", "peer")]
    typing = [load(folder / f"full_stack-{n}-typing.json") for n in ("pep-voice", "peer")]
    print(full_stack([r for r in capacity if r]), end="\n\n")
    print(full_stack([r for r in typing if r]), end="\n\n")
    project = load(folder / "nlu-pep-voice.json")
    if project:
        print(nlu(project, load(folder / "nlu-peer.json")))


if __name__ == "__main__":
    main()
