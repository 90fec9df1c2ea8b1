"""Geometry for the report's inline SVG charts (drawn by the ``_bar_chart``/``_trend_chart``
partials): coordinates only, so the templates stay free of arithmetic and the report needs no
script or network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.totals import yuan_text


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    title: str
    axis_x: float = 0.0
    axis_y: float = 0.0


def money_text(value: float) -> str:
    """Yuan as every output writes it (:func:`audit.totals.yuan_text`): ``9,106.00 元``."""
    return yuan_text(value)


def horizontal_bars(rows: list[dict[str, Any]], label: str, value: str, title: str,
                    width: int = 760, label_width: int = 190, bar_height: int = 22, limit: int = 20) -> Chart:
    """One horizontal bar per row (largest first, at most ``limit``)."""
    rows = rows[:limit]
    top = max((float(r[value]) for r in rows), default=0.0) or 1.0
    plot = width - label_width - 130
    bars = []
    for i, r in enumerate(rows):
        v = float(r[value])
        w = max(plot * v / top, 1.0 if v > 0 else 0.0)
        y = 8 + i * (bar_height + 8)
        bars.append(Bar(str(r[label]), money_text(v), label_width, y, round(w, 1), bar_height,
                        round(label_width + w + 6, 1), y + bar_height * 0.72))
    height = 16 + len(rows) * (bar_height + 8)
    return Chart(width, max(height, 40), bars, title, axis_x=label_width)


def vertical_bars(points: list[dict[str, Any]], label: str, value: str, title: str,
                  width: int = 760, height: int = 220) -> Chart:
    """One column per point (months in order), value above, label below."""
    n = max(len(points), 1)
    top = max((float(p[value]) for p in points), default=0.0) or 1.0
    plot_h = height - 60
    slot = (width - 40) / n
    col_w = min(60.0, slot * 0.6)
    bars = []
    for i, p in enumerate(points):
        v = float(p[value])
        h = max(plot_h * v / top, 1.0 if v > 0 else 0.0)
        x = 20 + i * slot + (slot - col_w) / 2
        y = 20 + plot_h - h
        bars.append(Bar(str(p[label]), money_text(v), round(x, 1), round(y, 1), round(col_w, 1), round(h, 1),
                        round(x + col_w / 2, 1), round(y - 5, 1)))
    return Chart(width, height, bars, title, axis_y=20 + plot_h)
