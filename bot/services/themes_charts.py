"""The themes' charts: SVG drawn on the server with matplotlib, from suppressed figures only.

A chart gets a `Theme` (bot.services.themes), which holds no hidden count, so no bar, label
or axis can give one away: a hidden cell is a hatched bar of a fixed length with its note
("fewer than 5" or "hidden"), and the value axis has no ticks (each shown bar carries its
number). The SVG is deterministic (fixed id salt, no date) and has no `style` attributes or
`<style>` element: the review pages' CSP (no 'unsafe-inline') would block them when the chart
is opened on its own, so matplotlib's styles become SVG presentation attributes.

matplotlib is imported on the first chart (not when the app starts), through its
object-oriented API only (`Figure`, no pyplot and its global figures). rcParams are global,
so drawing is one chart at a time.
"""

from __future__ import annotations

import io
import re
import threading

from bot.services.themes import Cell, Theme

BAR = "#1d3f8f"  # the review app's brand blue
HIDDEN_EDGE = "#5b5b5b"
INK = "#111111"
WIDTH_IN = 5.6  # narrow, so that the text stays readable when a phone shrinks it
BAR_IN = 0.36  # height of one bar's row
GROUP_EXTRA_IN = 0.55  # a group's title and margins
HIDDEN_BAR = 0.12  # a hidden cell's bar, as a share of the axis: not a count
_draw_lock = threading.Lock()


def chart_svg(theme: Theme) -> bytes:
    """The theme as a horizontal bar chart (one panel per group), as SVG."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rows = sum(len(g.cells) for g in theme.groups)
    height = rows * BAR_IN + len(theme.groups) * GROUP_EXTRA_IN + 0.4
    with (
        _draw_lock,
        rc_context(
            {
                "svg.hashsalt": "pep-voice-themes",  # the same ids every time
                "svg.fonttype": "none",  # text stays text: selectable, and readable by tests
                "font.family": "sans-serif",
                "font.size": 12,
                "hatch.color": HIDDEN_EDGE,
            }
        ),
    ):
        figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ratios = [len(g.cells) + 1.2 for g in theme.groups]
        axes = figure.subplots(len(theme.groups), 1, squeeze=False, height_ratios=ratios)
        widest = max((c.count or 0 for g in theme.groups for c in g.cells), default=0)
        for ax, group in zip(axes[:, 0], theme.groups, strict=True):
            _draw_group(ax, group.title, group.cells, max(widest, 1))
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Title": theme.title})
    return _without_styles(out.getvalue()).encode("utf-8")


def _draw_group(ax: object, title: str | None, cells: tuple[Cell, ...], widest: int) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    limit = widest * 1.45  # room for the labels after the longest bar
    positions = list(range(len(cells)))
    for y, cell in zip(positions, cells, strict=True):
        if cell.count is None:
            ax.barh(
                y, limit * HIDDEN_BAR, color="#ffffff", edgecolor=HIDDEN_EDGE, hatch="///",
                height=0.7,
            )  # fmt: skip
            ax.text(limit * (HIDDEN_BAR + 0.02), y, cell.text, va="center", color=INK,
                    fontstyle="italic")  # fmt: skip
        else:
            ax.barh(y, cell.count, color=BAR, height=0.7)
            ax.text(cell.count + limit * 0.02, y, str(cell.count), va="center", color=INK)
    ax.set_yticks(positions, [cell.label for cell in cells])
    ax.set_ylim(len(cells) - 0.5, -0.5)  # the first cell at the top
    ax.set_xlim(0, limit)
    ax.set_xticks([])  # no scale: it could hint at a hidden figure; each bar has its number
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if title:
        ax.set_title(title, loc="left", fontweight="bold", fontsize=12)


_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>(.*?)</style>", re.S)


def _as_attributes(match: re.Match[str]) -> str:
    parts = (d.split(":", 1) for d in match.group(1).split(";") if ":" in d)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in parts)


def _without_styles(svg: str) -> str:
    """matplotlib's `style="fill: #fff; ..."` as `fill="#fff" ...`, and its one stylesheet
    rule (`*{stroke-linejoin: round; stroke-linecap: butt}`) on the root, where it inherits."""
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = svg.replace("<defs>\n </defs>", "", 1)
    svg = svg.replace(
        ' xmlns="http://www.w3.org/2000/svg"',
        ' xmlns="http://www.w3.org/2000/svg" stroke-linejoin="round" stroke-linecap="butt"',
        1,
    )
    return _STYLE_ATTR.sub(_as_attributes, svg)
