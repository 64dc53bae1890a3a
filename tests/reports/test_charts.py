"""The charts are real PNG images of a phone-friendly size, drawn from the bundled samples,
and they still draw (saying so) when there is nothing to show."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.reports.build import build_report
from bot.reports.charts import CHART_NAMES, render_charts
from bot.reports.params import ReportParams
from bot.reports.procurements import procurements_from_notices
from tests.reports.kit import END, START, all_notices

PNG = b"\x89PNG\r\n\x1a\n"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"


def _report(region: str, start: datetime = START, end: datetime = END) -> dict[str, object]:
    return build_report(
        procurements_from_notices(all_notices()),
        ReportParams(start=start, end=end, region=region),
        generated_at=end,
        source="files",
    )


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, read by hand (no library's word for it)."""
    assert png[:8] == PNG and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("region", ["UK", "UKF"])
def test_charts_are_valid_pngs_of_a_sensible_size(region: str) -> None:
    charts = render_charts(_report(region))
    assert [c.name for c in charts] == list(CHART_NAMES)
    for chart in charts:
        assert _size(chart.png) == (1080, 1080)  # a phone's width, square
        assert 10_000 < len(chart.png) < 1_000_000  # drawn, yet quick to send
        image = Image.open(io.BytesIO(chart.png))
        image.verify()  # the whole file decodes (CRCs, zlib stream)
        pixels = Image.open(io.BytesIO(chart.png)).convert("RGB")
        colours = pixels.getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 20, f"{chart.name} looks blank"
        assert chart.title and region in {"UK", "UKF"}


def test_bars_show_in_the_colours_of_the_sectors() -> None:
    """The stacked bars are there: the first sector colour covers a good part of the image."""
    [over_time, *_] = render_charts(_report("UK"))
    pixels = Image.open(io.BytesIO(over_time.png)).convert("RGB")
    blue = sum(n for n, rgb in pixels.getcolors(maxcolors=1_000_000) or [] if rgb == (0, 114, 178))
    assert blue > 1000


def test_an_empty_report_still_draws_its_charts() -> None:
    empty = _report(
        "UKN", start=datetime(2010, 1, 1, tzinfo=UTC), end=datetime(2010, 2, 1, tzinfo=UTC)
    )
    for chart in render_charts(empty):
        assert _size(chart.png) == (1080, 1080)
        Image.open(io.BytesIO(chart.png)).verify()


def test_the_readme_chart_is_a_real_chart() -> None:
    """docs/images holds the chart the README shows, made by the command in docs/reports.md."""
    png = (DOCS / "report" / "contracts_ending.png").read_bytes()
    assert _size(png) == (1080, 1080)
    Image.open(io.BytesIO(png)).verify()
