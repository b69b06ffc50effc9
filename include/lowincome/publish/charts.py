"""Charts as inline SVG, drawn in Python: the report needs no script, no font file and no network.

Two kinds: a column chart of counties sorted by value against the threshold (met / not met / no verdict
coloured, suppressed and missing counties listed under it), and a trend chart of groups over the years
with the threshold and, for T1, the on-track path. Every mark carries a ``<title>`` so hovering shows
the figure, its status and its flags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

MET = "#1a7f37"
NOT_MET = "#cf222e"
NO_VERDICT = "#8c959f"
THRESHOLD = "#0550ae"
PATH = "#8250df"
GRID = "#d0d7de"
INK = "#24292f"
MUTED = "#57606a"
SERIES = ("#0550ae", "#bc4c00", "#1a7f37", "#8250df")
FONT = "font-family=\"'Noto Sans CJK SC','WenQuanYi Zen Hei','Microsoft YaHei','PingFang SC',sans-serif\""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    met: bool | None
    note: str = ""          # shown in the tooltip: status, flags


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[int, float | None, bool]]   # (year, value, provisional)
    color: str


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:,.1f}%"
    if unit == "pp":
        return f"{value:+,.1f} pp"
    if unit == "ratio":
        return f"{value:,.3f}"
    if unit == "km":
        return f"{value:,.1f} km"
    if unit == "yuan":
        return f"{value:,.0f} 元"
    return f"{value:,.0f}"


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    ticks, tick = [], first
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return ticks


def _short(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:g}%"
    if abs(value) >= 1e8:
        return f"{value / 1e8:g}亿"
    if abs(value) >= 1e4:
        return f"{value / 1e4:g}万"
    return f"{value:g}"


def _text_width(text: str, size: float) -> float:
    """Rough advance width: CJK characters are square, Latin ones about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def _color(met: bool | None) -> str:
    return MET if met else NOT_MET if met is False else NO_VERDICT


def bullet(value: float | None, threshold: float | None, met: bool | None, *, width: int = 96) -> str:
    """A small bar of value / threshold (capped at 120%) with a tick at the target, for tables."""
    if value is None or not threshold or threshold <= 0:
        return ""
    share = max(0.0, min(value / threshold, 1.2)) / 1.2
    tick = width / 1.2
    return (f'<svg class="bullet" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 10" width="{width}" '
            f'height="10" aria-hidden="true"><rect width="{width}" height="10" fill="#eaeef2"/>'
            f'<rect width="{share * width:.1f}" height="10" fill="{_color(met)}"/>'
            f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="10" stroke="{INK}" stroke-width="1.5"/></svg>')


def county_columns(bars: Sequence[Bar], *, unit: str, threshold: float | None, title: str,
                   width: int = 760, height: int = 300) -> str:
    """Counties sorted by value, one column each, with the threshold as a dashed line.

    With many counties the chart widens (up to the page) so that every county keeps a readable name.
    """
    shown = sorted((b for b in bars if b.value is not None), key=lambda b: (-b.value, b.label))
    left, right, top, bottom = 56, 12, 18, 92
    width = min(1240, max(width, left + right + 15 * len(shown)))
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [b.value for b in shown] + ([threshold] if threshold is not None else [])
    high = _nice_ceiling(max([v for v in values if v is not None] + [0]) * 1.05)
    low = min([0.0] + [v for v in values if v is not None])
    low = -_nice_ceiling(-low * 1.05) if low < 0 else 0.0

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [f'<svg class="chart county-chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>',
             f"<title>{escape(title)}</title>"]
    for tick in _ticks(low, high):
        ty = y(tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" fill="{MUTED}" '
                     f'text-anchor="end">{escape(_short(tick, unit))}</text>')
    if shown:
        step = plot_w / len(shown)
        bar_w = max(2.0, min(28.0, step * 0.72))
        label_size = 11 if step >= 20 else 10
        angle = -60 if step >= 20 else -90
        for i, bar in enumerate(shown):
            cx = left + step * (i + 0.5)
            y0, y1 = y(0) if low <= 0 <= high else y(low), y(bar.value)
            top_y, h = min(y0, y1), abs(y0 - y1)
            tip = f"{bar.label}: {format_value(bar.value, unit)}{(' · ' + bar.note) if bar.note else ''}"
            parts.append(f'<rect class="bar" x="{cx - bar_w / 2:.1f}" y="{top_y:.1f}" width="{bar_w:.1f}" '
                         f'height="{max(h, 0.5):.1f}" fill="{_color(bar.met)}"><title>{escape(tip)}</title></rect>')
            if step >= 34:
                label_y = top_y - 4 if bar.value >= 0 else top_y + h + 12
                parts.append(f'<text x="{cx:.1f}" y="{label_y:.1f}" font-size="10" fill="{MUTED}" '
                             f'text-anchor="middle">{escape(_short(bar.value, unit))}</text>')
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 8}" font-size="{label_size}" fill="{INK}" '
                         f'text-anchor="end" dominant-baseline="middle" transform="rotate({angle} {cx:.1f} {top + plot_h + 8})">'
                         f"{escape(bar.label)}</text>")
    else:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" font-size="13" fill="{MUTED}" '
                     f'text-anchor="middle">no published county figures</text>')
    if threshold is not None:
        ty = y(threshold)
        parts.append(f'<line class="threshold" x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     f'stroke="{THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4">'
                     f"<title>target {escape(format_value(threshold, unit))}</title></line>")
        parts.append(f'<text x="{width - right}" y="{ty - 5:.1f}" font-size="11" fill="{THRESHOLD}" '
                     f'text-anchor="end" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                     f'目标 {escape(format_value(threshold, unit))}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append("</svg>")
    return "".join(parts)


def trend(series: Sequence[Series], *, unit: str, threshold: float | None, title: str,
          path: Sequence[tuple[int, float]] = (), years: Sequence[int] = (),
          width: int = 380, height: int = 300) -> str:
    """Groups over the years; hollow markers are provisional figures."""
    all_years = sorted(set(years) | {yr for s in series for yr, _, _ in s.points} | {yr for yr, _ in path})
    left, right, top, bottom = 56, 14, 18, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for _, v, _ in s.points if v is not None] + [v for _, v in path]
    if threshold is not None:
        values.append(threshold)
    high = _nice_ceiling(max(values + [0]) * 1.05)
    low = min([0.0] + values)
    low = -_nice_ceiling(-low * 1.05) if low < 0 else 0.0
    first, last = (all_years[0], all_years[-1]) if all_years else (0, 1)

    def x(year: int) -> float:
        return left + (plot_w / 2 if last == first else (year - first) / (last - first) * plot_w)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [f'<svg class="chart trend-chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>',
             f"<title>{escape(title)}</title>"]
    for tick in _ticks(low, high):
        ty = y(tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" fill="{MUTED}" '
                     f'text-anchor="end">{escape(_short(tick, unit))}</text>')
    for year in all_years:
        parts.append(f'<text x="{x(year):.1f}" y="{top + plot_h + 16}" font-size="11" fill="{MUTED}" '
                     f'text-anchor="middle">{year}</text>')
    if threshold is not None:
        ty = y(threshold)
        parts.append(f'<line class="threshold" x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     f'stroke="{THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4">'
                     f"<title>target {escape(format_value(threshold, unit))}</title></line>")
    if len(path) > 1:
        points = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in path)
        parts.append(f'<polyline class="path" points="{points}" fill="none" stroke="{PATH}" stroke-width="1.5" '
                     f'stroke-dasharray="2 3"><title>on-track path to the target</title></polyline>')
    for s in series:
        known = [(yr, v, p) for yr, v, p in s.points if v is not None]
        if len(known) > 1:
            points = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v, _ in known)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for yr, v, provisional in known:
            fill = "#ffffff" if provisional else s.color
            tip = f"{s.label} {yr}: {format_value(v, unit)}{' (provisional)' if provisional else ''}"
            parts.append(f'<circle class="point" cx="{x(yr):.1f}" cy="{y(v):.1f}" r="3.5" fill="{fill}" '
                         f'stroke="{s.color}" stroke-width="1.5"><title>{escape(tip)}</title></circle>')
    legend_y = height - 26
    legend_x = left
    entries = [(s.label, s.color, "") for s in series]
    if threshold is not None:
        entries.append(("目标 target", THRESHOLD, "6 4"))
    if len(path) > 1:
        entries.append(("进度 on track", PATH, "2 3"))
    for label, color, dash in entries:
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{legend_y}" y2="{legend_y}" stroke="{color}" '
                     f'stroke-width="2" stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="{legend_x + 22}" y="{legend_y + 4}" font-size="11" fill="{INK}">{escape(label)}</text>')
        legend_x += 34 + _text_width(label, 11)
    parts.append("</svg>")
    return "".join(parts)
