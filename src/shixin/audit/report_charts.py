"""Bar charts as inline SVG, drawn on the server: the report needs no script and no network.

Each chart draws only numbers it is given (from the report's content); the axis ticks are round
steps up to the largest value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 880, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 52


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css_class: str  # the colour comes from the page's stylesheet


def _step(largest: int) -> int:
    """A round tick step giving about five ticks up to `largest`."""
    if largest <= 5:
        return 1
    raw = largest / 5
    magnitude = int(10 ** math.floor(math.log10(raw)))  # raw > 1: a whole power
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_every: int = 1,
    show_values: bool = True,
) -> Markup:
    """Grouped bars: one group per label, one bar per series. `label_every`: print every n-th
    label only (many months would overlap)."""
    largest = max((v for s in series for v in s.values), default=0)
    step = _step(largest)
    top_value = max(step, math.ceil(largest / step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top_value

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(0, top_value + 1, step):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="tick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i]
            x = x0 + j * bar_w
            parts.append(
                f'<rect class="bar {s.css_class}" data-label="{escape(label)}" '
                f'data-series="{escape(s.name)}" data-value="{value}" x="{x:.1f}" '
                f'y="{y(value):.1f}" width="{bar_w:.1f}" height="{y(0) - y(value):.1f}">'
                f"<title>{escape(label)} · {escape(s.name)}: {value}</title></rect>"
            )
            if show_values and value:
                parts.append(
                    f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y(value) - 4:.1f}" '
                    f'text-anchor="middle">{value}</text>'
                )
        if i % label_every == 0:
            parts.append(
                f'<text class="label" x="{LEFT + (i + 0.5) * group_w:.1f}" '
                f'y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
    )
    for j, s in enumerate(series):
        x = LEFT + j * 160
        parts.append(
            f'<rect class="bar {s.css_class}" x="{x}" y="{HEIGHT - 18}" width="12" height="12"/>'
            f'<text class="legend" x="{x + 18}" y="{HEIGHT - 8}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
