"""The report's charts as PNG images, drawn from the JSON report, readable on a phone.

Three charts: opportunities by sector over time (stacked bars), the buyers with most
opportunities, and contracts ending by quarter (the re-tender forecast). They are square
(1080 × 1080 pixels: a phone's width in Telegram and in a mail client), with large type,
few colours, direct labels and no more than six sectors named.

matplotlib is imported when a chart is drawn, not when bestbot starts, and only through
its object-oriented API on the headless Agg canvas: no pyplot global state, no display,
safe to call from a worker thread.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.reports.figures import division_name
from bot.reports.formats import money

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CHART_NAMES", "ChartFile", "render_charts"]

SIZE_INCHES = 7.2
DPI = 150
FONT = 15
TOP_SECTORS = 6
TOP_BUYERS = 10
#: Colour-blind-safe (Okabe-Ito), then grey for "other".
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999")
CHART_NAMES = ("sectors_over_time", "buyers", "contracts_ending")


@dataclass(frozen=True, slots=True)
class ChartFile:
    """One chart: a file name (``sectors_over_time.png``), its title (alt text) and PNG."""

    name: str
    title: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(SIZE_INCHES, SIZE_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=FONT - 2)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph missing from the font is not an error
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _integer_ticks(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _slanted(axes: Axes, count: int) -> None:
    """Slant the x labels when there are many, anchored so each ends under its bar."""
    if count <= 6:
        return
    for label in axes.get_xticklabels():
        label.set_rotation(45)
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=FONT, transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def _title(figure: Figure, title: str, subtitle: str) -> None:
    figure.suptitle(f"{title}\n{subtitle}", fontsize=FONT + 2, fontweight="bold")


def _short(text: str, width: int) -> str:
    lines = textwrap.wrap(text, width=width, max_lines=2, placeholder="…")
    return "\n".join(lines) or text[:width]


def _period_label(start: str, unit: str) -> str:
    day = date.fromisoformat(start)
    return f"{day:%b %Y}" if unit == "month" else f"{day.day} {day:%b}"


def sectors_over_time(report: Mapping[str, Any], subtitle: str) -> ChartFile:
    """Stacked bars: opportunities per week (or month), the six biggest sectors coloured."""
    over = report["opportunities"]["over_time"]
    periods: Sequence[Mapping[str, Any]] = over["periods"]
    totals: Counter[str] = Counter(report["opportunities"]["by_cpv_division"])
    top = [key for key, _ in totals.most_common(TOP_SECTORS)]
    figure, axes = _figure()
    title = "Opportunities by sector"
    if not periods or not totals:
        _empty(axes, "No opportunities in this window")
    else:
        labels = [_period_label(p["start"], over["unit"]) for p in periods]
        positions = range(len(periods))
        bottom = [0] * len(periods)
        series = [(key, _short(f"{key} {division_name(key)}", 34)) for key in top]
        if len(totals) > len(top):
            series.append(("", "Other sectors"))
        for (key, name), colour in zip(series, COLOURS, strict=False):
            heights = [
                p["by_cpv_division"].get(key, 0)
                if key
                else sum(n for k, n in p["by_cpv_division"].items() if k not in top)
                for p in periods
            ]
            axes.bar(positions, heights, bottom=bottom, color=colour, label=name, width=0.8)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axes.set_xticks(
            list(positions),
            labels,
            rotation=45 if len(periods) > 6 else 0,
            ha="right" if len(periods) > 6 else "center",
        )
        axes.set_ylabel("opportunities", fontsize=FONT)
        _integer_ticks(axes.yaxis)
        axes.legend(
            fontsize=FONT - 3,
            loc="upper left",
            frameon=False,
            bbox_to_anchor=(0, -0.18 if len(periods) > 6 else -0.1),
            ncols=1,
        )
    _title(figure, title, subtitle)
    return ChartFile("sectors_over_time", f"{title}, {subtitle}", _png(figure))


def buyers(report: Mapping[str, Any], subtitle: str) -> ChartFile:
    """Horizontal bars: the buyers with most opportunities, biggest at the top."""
    ranked = list(report["opportunities"]["by_buyer"].items())[:TOP_BUYERS]
    figure, axes = _figure()
    title = "Buyers with most opportunities"
    if not ranked:
        _empty(axes, "No opportunities in this window")
    else:
        names = [_short(name, 30) for name, _ in reversed(ranked)]
        counts = [n for _, n in reversed(ranked)]
        bars = axes.barh(names, counts, color=COLOURS[0])
        axes.bar_label(bars, padding=3, fontsize=FONT - 2)
        axes.set_xlabel("opportunities", fontsize=FONT)
        _integer_ticks(axes.xaxis)
        axes.tick_params(axis="y", labelsize=FONT - 4)
    _title(figure, title, subtitle)
    return ChartFile("buyers", f"{title}, {subtitle}", _png(figure))


def _quarter(end: str) -> str:
    moment = datetime.fromisoformat(end)
    return f"{moment.year} Q{(moment.month - 1) // 3 + 1}"


def _quarters(first: str, last: str) -> list[str]:
    year, quarter = int(first[:4]), int(first[-1])
    found = []
    while f"{year} Q{quarter}" <= last:
        found.append(f"{year} Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return found


def _horizon_end(report: Mapping[str, Any]) -> str:
    end = datetime.fromisoformat(report["window"]["to"])
    return (end + timedelta(days=report["about"]["horizon_days"])).isoformat()


def contracts_ending(report: Mapping[str, Any], subtitle: str) -> ChartFile:
    """Bars: contracts ending per quarter within the horizon, labelled with their value."""
    entries: Sequence[Mapping[str, Any]] = report["contracts_ending"]
    figure, axes = _figure()
    title = "Contracts ending by quarter (forecast)"
    if not entries:
        _empty(axes, "No contracts end within the horizon")
    else:
        counts: Counter[str] = Counter(_quarter(e["end_date"]) for e in entries)
        values: Counter[str] = Counter()
        for e in entries:
            if isinstance(e.get("value"), int | float):
                values[_quarter(e["end_date"])] += e["value"]
        quarters = _quarters(_quarter(report["window"]["to"]), _quarter(_horizon_end(report)))
        heights = [counts[q] for q in quarters]
        bars = axes.bar(quarters, heights, color=COLOURS[2], width=0.75)
        axes.bar_label(
            bars,
            labels=[
                f"{counts[q]}\n{money(values[q])}" if values[q] else str(counts[q])
                for q in quarters
            ],
            padding=3,
            fontsize=FONT - 4,
        )
        axes.set_ylabel("contracts", fontsize=FONT)
        axes.set_ylim(0, max(heights) * 1.25 + 1)
        _integer_ticks(axes.yaxis)
        _slanted(axes, len(quarters) + 2)
    _title(figure, title, subtitle)
    return ChartFile("contracts_ending", f"{title}, {subtitle}", _png(figure))


def render_charts(report: Mapping[str, Any]) -> list[ChartFile]:
    """Every chart of the report, in :data:`CHART_NAMES` order."""
    from bot.reports.formats import horizon_text, window_text

    about = report["about"]
    subtitle = f"{about['region_name']}, {window_text(report)}"
    horizon = f"{about['region_name']}, next {horizon_text(about['horizon_days'])}"
    return [
        sectors_over_time(report, subtitle),
        buyers(report, subtitle),
        contracts_ending(report, horizon),
    ]
