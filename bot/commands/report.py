"""``bestbot report``: the market report — what public demand there is, and what is coming.

Reads the database (every canonical notice, with feedback, enquiries and the service's own
figures), or ``--notices FILE…`` in any format ``feed parse`` reads (and the JSON Lines it
prints), so it also works offline on files. Writes text, HTML, CSV, JSON or the PNG charts
to stdout or ``--out DIR``. The keys of the JSON are documented in docs/reports.md.

Examples::

    bestbot report                                   # last 30 days, [reports] region, text
    bestbot report --since 7d --format json
    bestbot report --from 2025-01-01 --to 2025-03-31 --region UK --format html --out out/
    bestbot report --notices feeds/samples/*.json --region "East Midlands" --format png --out out/
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, load_config
from bot.durations import parse_duration
from bot.errors import UserError
from bot.reports.params import ReportParams
from feeds.notice import Notice

FORMATS = ("text", "html", "csv", "json", "png")
_EXTENSIONS = {"text": "txt", "html": "html", "csv": "csv", "json": "json"}
_MONTHS = re.compile(r"^\s*(\d{1,3})\s*(mo|mon|month|months)\s*$", re.I)
_YEARS = re.compile(r"^\s*(\d{1,2})\s*(y|yr|year|years)\s*$", re.I)
DAYS_PER_MONTH = 365.25 / 12
EXAMPLE_REGIONS = '"UKF", "East Midlands", "UKF14" or "UK"'


def register(subparsers: Any) -> None:
    """Add ``report`` to the CLI."""
    parser = subparsers.add_parser(
        "report",
        help="the market report: opportunities, awards, contracts ending (text/html/csv/json/png)",
        description=(
            "Public demand in a region over a window: opportunities by sector, region, value "
            "and kind, what closes soon, early signals, contracts ending (the re-tender "
            "forecast), awards and who won them. Reads the database, or --notices FILE..."
        ),
    )
    window = parser.add_argument_group("window (default: the last 30 days)")
    window.add_argument("--since", metavar="DURATION", help='how far back, e.g. "30d", "2w"')
    window.add_argument("--from", dest="start", metavar="DATE", help="first day, YYYY-MM-DD")
    window.add_argument("--to", dest="end", metavar="DATE", help="last day, YYYY-MM-DD")
    parser.add_argument(
        "--region", metavar="REGION", help=f"NUTS prefix or name, e.g. {EXAMPLE_REGIONS}"
    )
    parser.add_argument(
        "--horizon",
        metavar="LENGTH",
        help='how far ahead contracts ending are looked for, e.g. "18mo", "2y", "548d" '
        "(default: [reports] horizon, about 18 months)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument("--out", metavar="DIR", help="write files into DIR instead of stdout")
    parser.add_argument(
        "--notices",
        nargs="+",
        metavar="FILE",
        help="read notices from files (any format `feed parse` reads) instead of the database",
    )
    parser.add_argument(
        "--profiles",
        metavar="FILE",
        help="with --notices: subscribers' profiles (as for `match`), for unserved_demand",
    )
    parser.set_defaults(func=run)


# ----------------------------------------------------------------------------- arguments


def parse_horizon(text: str) -> timedelta:
    """``"18mo"`` / ``"18 months"``, ``"2y"``, or a duration (``"548d"``, ``"78w"``)."""
    if match := _MONTHS.match(text):
        months = int(match.group(1))
        days = round(months * DAYS_PER_MONTH)
    elif match := _YEARS.match(text):
        days = round(int(match.group(1)) * 365.25)
    else:
        try:
            return parse_duration(text)
        except ValueError:
            raise UserError(
                f'report: --horizon {text!r} is not a length like "18mo", "2y" or "548d"'
            ) from None
    if days <= 0:
        raise UserError(f"report: --horizon {text!r} must be longer than zero")
    return timedelta(days=days)


def parse_day(text: str, option: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DD`` (or an ISO date and time) as the start of that day in ``tz``."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=tz)
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"report: {option} {text!r} is not a date like 2025-01-31") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def parse_region(text: str) -> str:
    """A NUTS code, a region name, ``"UK"`` or ``"England"``; a clear error otherwise."""
    from matchers.regions import NUTS_NAMES, to_code

    cleaned = text.strip()
    if cleaned.casefold() in ("uk", "all", "united kingdom", "national"):
        return "UK"
    code = to_code(cleaned) if cleaned else None
    if code is None or (code not in ("UK", "ENG") and code[:3] not in NUTS_NAMES):
        raise UserError(f"report: --region {text!r} is not a region like {EXAMPLE_REGIONS}")
    return code


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def window_of(args: argparse.Namespace, now: datetime, tz: ZoneInfo) -> Window:
    """``--since`` back from now or from ``--to``; or ``--from``/``--to`` (whole days)."""
    if args.since and args.start:
        raise UserError("report: give --since or --from, not both")
    end = now
    if args.end:
        end = parse_day(args.end, "--to", tz)
        if len(args.end.strip()) == 10:
            end = datetime.combine(end.date() + timedelta(days=1), time(), tzinfo=tz)
    if args.start:
        start = parse_day(args.start, "--from", tz)
    else:
        try:
            since = parse_duration(args.since or "30d")
        except ValueError as exc:
            raise UserError(f"report: --since: {exc}") from None
        start = end - since
    if end <= start:
        raise UserError("report: the window is empty: --to must come after --from")
    return Window(start, end)


def params_of(args: argparse.Namespace, config: Config, now: datetime) -> ReportParams:
    tz = ZoneInfo(config.alerts.timezone)
    window = window_of(args, now, tz)
    return ReportParams(
        start=window.start,
        end=window.end,
        region=parse_region(args.region) if args.region else config.reports.region,
        horizon=parse_horizon(args.horizon) if args.horizon else config.reports.horizon,
        closing_within=config.reports.closing_within,
    )


# ----------------------------------------------------------------------------- making it


def _load_notices(paths: Sequence[str]) -> list[Notice]:
    from bot.commands.match import load_notices

    notices: list[Notice] = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"report: {name}: no such file")
        notices.extend(load_notices(path))
    return notices


def _from_files(args: argparse.Namespace, params: ReportParams, now: datetime) -> dict[str, Any]:
    from bot.commands.match import load_profiles
    from bot.reports.source import report_from_files

    profiles = load_profiles(Path(args.profiles)) if args.profiles else None
    return report_from_files(
        _load_notices(args.notices), params, generated_at=now, profiles=profiles
    )


async def _from_database(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import App
    from bot.reports.source import report_from_database

    async with App(config) as app:
        now = app.services.clock()
        params = params_of(args, config, now)
        return await report_from_database(app.db, params, generated_at=now)


def make_report(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """The JSON report the arguments ask for."""
    if args.profiles and not args.notices:
        raise UserError("report: --profiles goes with --notices (the database has subscribers)")
    if args.notices:
        now = datetime.now().astimezone()
        return _from_files(args, params_of(args, config, now), now)
    return asyncio.run(_from_database(config, args))


# ----------------------------------------------------------------------------- writing it


def rendered(report: dict[str, Any], fmt: str, *, chart_src: str = "data") -> str:
    """The report as text in one of the text formats (HTML with its charts)."""
    from bot.reports import formats

    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return formats.report_csv(report)
    if fmt == "html":
        return formats.report_html(report, _html_charts(report, chart_src))
    return formats.report_text(report)


def _html_charts(report: dict[str, Any], chart_src: str) -> list[Any]:
    from bot.reports.charts import render_charts
    from bot.reports.formats import Chart

    charts = []
    for chart in render_charts(report):
        src = (
            "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
            if chart_src == "data"
            else chart.filename
        )
        charts.append(Chart(chart.name, chart.title, src))
    return charts


def write_files(report: dict[str, Any], fmt: str, out: Path) -> list[Path]:
    """Write the report into ``out``: ``report.<ext>`` (HTML with its PNGs beside it), or
    the PNG charts alone for ``png``."""
    from bot.reports.charts import render_charts

    try:
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if fmt in ("png", "html"):
            for chart in render_charts(report):
                path = out / chart.filename
                path.write_bytes(chart.png)
                written.append(path)
        if fmt != "png":
            path = out / f"report.{_EXTENSIONS[fmt]}"
            path.write_text(rendered(report, fmt, chart_src="file"), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise UserError(f"report: cannot write into {out}: {exc.strerror or exc}") from None
    return written


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.format == "png" and not args.out:
        raise UserError("report: --format png writes image files: give --out DIR")
    report = make_report(args, config)
    if args.out:
        for path in write_files(report, args.format, Path(args.out)):
            print(f"wrote {path}", file=sys.stderr)
        return 0
    sys.stdout.write(rendered(report, args.format))
    sys.stdout.flush()
    return 0
