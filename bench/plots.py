"""Plots (PNG) from bench/full_stack.py's JSON; measuring stays in full_stack.py.

    .venv/app/bin/python bench/plots.py run RESULT.json --out DIR
    .venv/app/bin/python bench/plots.py compare PROJECT.json PEER.json --out DIR

`run`: latency by turn number (a line per concurrency level, a panel per path) and p50/p95
bars by concurrency. `compare`: the two runs side by side, and the peer/project ratios of
p50, p95, p99 and messages per second printed for each (path, concurrency).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

RATIO_KEYS = ("p50_ms", "p95_ms", "p99_ms", "messages_per_s")


def _by_path(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    paths: dict[str, list[dict[str, Any]]] = {}
    for result in report["results"]:
        paths.setdefault(result["path"], []).append(result)
    for results in paths.values():
        results.sort(key=lambda r: r["concurrency"])
    return paths


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def latency_by_turn(reports: Sequence[dict[str, Any]], out: Path) -> Path:
    """A panel per (run, path): mean latency at each turn number, a line per concurrency."""
    panels = [
        (report, path, results) for report in reports for path, results in _by_path(report).items()
    ]
    figure, axes = plt.subplots(
        1, len(panels), figsize=(6 * len(panels), 4), squeeze=False, sharey=True
    )
    for axis, (report, path, results) in zip(axes[0], panels, strict=True):
        for result in results:
            means = result["mean_ms_by_turn"]
            axis.plot(range(1, len(means) + 1), means, label=f"{result['concurrency']} at once")
        axis.set_title(f"{report['label']}: {path}")
        axis.set_xlabel("turn number")
        axis.grid(alpha=0.3)
        axis.legend()
    axes[0][0].set_ylabel("mean latency (ms)")
    return _save(figure, out)


def percentile_bars(reports: Sequence[dict[str, Any]], out: Path) -> Path:
    """p50 and p95 by concurrency: a group of bars per level, a bar per (run, path, figure)."""
    series = [
        (f"{report['label']} {path}", {r["concurrency"]: r for r in results})
        for report in reports
        for path, results in _by_path(report).items()
    ]
    levels = sorted({level for _, by_level in series for level in by_level})
    width = 0.8 / (2 * len(series))
    figure, axis = plt.subplots(figsize=(max(6.0, 2.5 * len(levels)), 4))
    for index, (name, by_level) in enumerate(series):
        for offset, key in enumerate(("p50_ms", "p95_ms")):
            position = 2 * index + offset
            xs = [i - 0.4 + width * (position + 0.5) for i in range(len(levels))]
            ys = [by_level[level][key] if level in by_level else math.nan for level in levels]
            axis.bar(xs, ys, width, label=f"{name} {key.removesuffix('_ms')}")
    axis.set_xticks(range(len(levels)), [f"{level} at once" for level in levels])
    axis.set_ylabel("latency per turn (ms)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize="small")
    return _save(figure, out)


def plot_run(report: dict[str, Any], out: Path) -> list[Path]:
    label = report["label"]
    return [
        latency_by_turn([report], out / f"{label}-latency-by-turn.png"),
        percentile_bars([report], out / f"{label}-percentiles.png"),
    ]


def ratios(project: dict[str, Any], peer: dict[str, Any]) -> list[dict[str, Any]]:
    """peer / project for each (path, concurrency) both runs measured."""
    theirs = {(r["path"], r["concurrency"]): r for r in peer["results"]}
    rows = []
    for ours in project["results"]:
        other = theirs.get((ours["path"], ours["concurrency"]))
        if other is None:
            continue
        row: dict[str, Any] = {"path": ours["path"], "concurrency": ours["concurrency"]}
        for key in RATIO_KEYS:
            mine, peer_value = ours.get(key), other.get(key)
            row[key] = round(peer_value / mine, 2) if mine and peer_value is not None else None
        rows.append(row)
    return rows


def compare(project: dict[str, Any], peer: dict[str, Any], out: Path) -> list[Path]:
    name = f"{project['label']}-vs-{peer['label']}"
    made = [
        latency_by_turn([project, peer], out / f"{name}-latency-by-turn.png"),
        percentile_bars([project, peer], out / f"{name}-percentiles.png"),
    ]
    rows = ratios(project, peer)
    print(f"{peer['label']} / {project['label']}")
    print(f"{'path':<7}{'N':>4}" + "".join(f"{key:>16}" for key in RATIO_KEYS))
    for row in rows:
        cells = "".join(f"{'-' if row[k] is None else row[k]:>16}" for k in RATIO_KEYS)
        print(f"{row['path']:<7}{row['concurrency']:>4}{cells}")
    (out / f"{name}-ratios.json").write_text(json.dumps(rows, indent=1) + "\n")
    return made


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Plots from bench/full_stack.py's JSON.")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="plots of one run")
    one.add_argument("result", type=Path)
    one.add_argument("--out", type=Path, required=True)
    two = sub.add_parser("compare", help="the project's run beside the peer's, with ratios")
    two.add_argument("project", type=Path)
    two.add_argument("peer", type=Path)
    two.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        made = plot_run(_load(args.result), args.out)
    else:
        made = compare(_load(args.project), _load(args.peer), args.out)
    for path in made:
        print(f"plot: {path}")


if __name__ == "__main__":
    main()
