"""Chart geometry for the report: where every mark goes, computed in Python; the SVG markup is in the
template ``templates/charts.html.j2`` (Jinja2, autoescaped). No script draws a chart, no font file or
network is needed.

Two kinds: a column chart of counties sorted by value against the threshold (met / not met / no verdict
coloured; a red column above the line is marked, a target with several criteria failing another one),
and a trend chart of groups over the years with the threshold and, for T1, the on-track path. Each
axis has one unit (元, 万元 or 亿元; 人 or 万人; %), named above it, so ticks never mix 5000 and 1万.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

MET = "#1a7f37"
NOT_MET = "#cf222e"
NO_VERDICT = "#8c959f"
THRESHOLD = "#0550ae"
PATH = "#8250df"
GRID = "#d0d7de"
INK = "#24292f"
MUTED = "#57606a"
SERIES = ("#0550ae", "#bc4c00", "#1a7f37", "#8250df")

UNIT_NAMES = {"yuan": "元", "persons": "人", "count": "个", "km": "公里", "percent": "%", "pp": "百分点",
              "ratio": "倍"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    met: bool | None
    note: str = ""           # shown in the tooltip: status, flags, why not met
    code: str = ""           # the county's code: the county filter highlights its column
    threshold_met: bool | None = None   # the value against the drawn threshold, when it differs from met


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
    if unit == "points":      # the classified evaluation's score, 0-100
        return f"{value:,.1f}"
    if unit == "pp":
        return f"{value:+,.1f} pp"
    if unit == "ratio":
        return f"{value:,.3f}"
    if unit == "km":
        return f"{value:,.1f} km"
    if unit == "yuan":
        return f"{value:,.0f} 元"
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Scale:
    """One unit for a whole axis: values are divided by ``divisor`` and the axis says which unit."""

    unit: str
    divisor: float
    prefix: str          # 万 / 亿 / ""

    @property
    def title(self) -> str:
        name = UNIT_NAMES.get(self.unit, "")
        return f"{self.prefix}{name}" if self.prefix or name else ""

    def short(self, value: float) -> str:
        shown = value / self.divisor
        text = f"{shown:,.2f}".rstrip("0").rstrip(".") if shown != int(shown) else f"{shown:,.0f}"
        return text + ("%" if self.unit == "percent" else "")


def scale_for(high: float, unit: str) -> Scale:
    """The axis's unit from its largest tick: 万 from 10,000 up, 亿 from 100,000,000 (never mixed)."""
    if unit in ("percent", "pp", "ratio"):
        return Scale(unit, 1.0, "")
    if abs(high) >= 1e8:
        return Scale(unit, 1e8, "亿")
    if abs(high) >= 1e4:
        return Scale(unit, 1e4, "万")
    return Scale(unit, 1.0, "")


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


def _text_width(text: str, size: float) -> float:
    """Rough advance width: CJK characters are square, Latin ones about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def _label(value: float, unit: str) -> str:
    """A column's own figure, in full (the axis carries the unit)."""
    return format_value(value, unit).removesuffix(" 元").removesuffix(" km")


def color(met: bool | None) -> str:
    return MET if met else NOT_MET if met is False else NO_VERDICT


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class PlacedBar:
    bar: Bar
    x: float
    y: float
    width: float
    height: float
    center: float
    color: str
    tip: str
    value_label: str | None
    value_label_y: float
    flagged: bool            # red although at or above the drawn threshold: another criterion failed


@dataclass(frozen=True)
class Bullet:
    width: int
    share_width: float
    tick: float
    color: str


@dataclass
class CountyChart:
    title: str
    width: int
    height: int
    left: int
    right: int
    top: int
    plot_h: float
    axis_title: str
    ticks: list[Tick]
    bars: list[PlacedBar]
    label_size: int
    label_angle: int
    threshold_y: float | None
    threshold_label: str


@dataclass
class TrendPoint:
    x: float
    y: float
    fill: str
    color: str
    tip: str
    label: str
    year: int
    value: float


@dataclass
class TrendChart:
    title: str
    width: int
    height: int
    left: int
    right: int
    top: int
    plot_h: float
    axis_title: str
    ticks: list[Tick]
    years: list[tuple[float, int]]
    threshold_y: float | None
    threshold_label: str
    path: str
    lines: list[tuple[str, str]] = field(default_factory=list)       # (points, colour)
    points: list[TrendPoint] = field(default_factory=list)
    legend: list[tuple[float, str, str, str]] = field(default_factory=list)   # (x, label, colour, dash)
    legend_y: float = 0.0


def bullet(value: float | None, threshold: float | None, met: bool | None, *, width: int = 96) -> Bullet | None:
    """A small bar of value / threshold (capped at 120%) with a tick at the target, for tables."""
    if value is None or not threshold or threshold <= 0:
        return None
    share = max(0.0, min(value / threshold, 1.2)) / 1.2
    return Bullet(width, share * width, width / 1.2, color(met))


def _range(values: list[float]) -> tuple[float, float]:
    high = _nice_ceiling(max(values + [0]) * 1.05)
    low = min([0.0] + values)
    return (-_nice_ceiling(-low * 1.05) if low < 0 else 0.0), high


def county_columns(bars: Sequence[Bar], *, unit: str, threshold: float | None, title: str,
                   width: int = 760, height: int = 300) -> CountyChart:
    """Counties sorted by value, one column each, with the threshold as a dashed line.

    With many counties the chart widens (up to the page) so that every county keeps a readable name.
    """
    # the given order breaks ties (the report gives its table's order, so chart and CSV agree)
    shown = sorted((b for b in bars if b.value is not None), key=lambda b: -b.value)
    left, right, top, bottom = 56, 12, 22, 92
    width = min(1240, max(width, left + right + 15 * len(shown)))
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = _range([b.value for b in shown] + ([threshold] if threshold is not None else []))
    ticks = _ticks(low, high)
    scale = scale_for(max(abs(t) for t in ticks), unit)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    placed = []
    step = plot_w / len(shown) if shown else plot_w
    bar_w = max(2.0, min(28.0, step * 0.72))
    for i, bar in enumerate(shown):
        cx = left + step * (i + 0.5)
        y0, y1 = y(0) if low <= 0 <= high else y(low), y(bar.value)
        top_y, h = min(y0, y1), abs(y0 - y1)
        flagged = bar.met is False and threshold is not None and bar.value >= threshold
        tip = f"{bar.label}: {format_value(bar.value, unit)}{(' · ' + bar.note) if bar.note else ''}"
        placed.append(PlacedBar(bar, cx - bar_w / 2, top_y, bar_w, max(h, 0.5), cx, color(bar.met), tip,
                                _label(bar.value, unit) if step >= 34 else None,
                                top_y - 4 if bar.value >= 0 else top_y + h + 12, flagged))
    return CountyChart(
        title=title, width=width, height=height, left=left, right=right, top=top, plot_h=plot_h,
        axis_title=scale.title, ticks=[Tick(y(t), scale.short(t)) for t in ticks], bars=placed,
        label_size=11 if step >= 20 else 10, label_angle=-60 if step >= 20 else -90,
        threshold_y=y(threshold) if threshold is not None else None,
        threshold_label=format_value(threshold, unit) if threshold is not None else "")


def trend(series: Sequence[Series], *, unit: str, threshold: float | None, title: str,
          path: Sequence[tuple[int, float]] = (), years: Sequence[int] = (),
          width: int = 380, height: int = 300) -> TrendChart:
    """Groups over the years; hollow markers are provisional figures."""
    all_years = sorted(set(years) | {yr for s in series for yr, _, _ in s.points} | {yr for yr, _ in path})
    left, right, top, bottom = 56, 14, 22, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for _, v, _ in s.points if v is not None] + [v for _, v in path]
    low, high = _range(values + ([threshold] if threshold is not None else []))
    ticks = _ticks(low, high)
    scale = scale_for(max(abs(t) for t in ticks), unit)
    first, last = (all_years[0], all_years[-1]) if all_years else (0, 1)

    def x(year: int) -> float:
        return left + (plot_w / 2 if last == first else (year - first) / (last - first) * plot_w)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    chart = TrendChart(
        title=title, width=width, height=height, left=left, right=right, top=top, plot_h=plot_h,
        axis_title=scale.title, ticks=[Tick(y(t), scale.short(t)) for t in ticks],
        years=[(x(yr), yr) for yr in all_years],
        threshold_y=y(threshold) if threshold is not None else None,
        threshold_label=format_value(threshold, unit) if threshold is not None else "",
        path=" ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in path) if len(path) > 1 else "",
        legend_y=height - 26)
    for s in series:
        known = [(yr, v, p) for yr, v, p in s.points if v is not None]
        if len(known) > 1:
            chart.lines.append((" ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v, _ in known), s.color))
        for yr, v, provisional in known:
            tip = f"{s.label} {yr}: {format_value(v, unit)}{' (provisional)' if provisional else ''}"
            chart.points.append(TrendPoint(x(yr), y(v), "#ffffff" if provisional else s.color, s.color, tip,
                                           s.label, yr, v))
    entries = [(s.label, s.color, "") for s in series]
    if threshold is not None:
        entries.append(("目标 target", THRESHOLD, "6 4"))
    if len(path) > 1:
        entries.append(("进度 on track", PATH, "2 3"))
    legend_x = float(left)
    for label, colour, dash in entries:
        chart.legend.append((legend_x, label, colour, dash))
        legend_x += 34 + _text_width(label, 11)
    return chart
