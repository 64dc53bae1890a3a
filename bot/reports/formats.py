"""The report as people read it: plain text, a Telegram summary, HTML and CSV.

Every renderer takes the JSON report (:func:`bot.reports.build.build_report`), never the
procurements, so a stored report (``market_report.data``) renders exactly as it did when
it was made. Strings from the feeds are escaped for HTML (Jinja2 autoescape, or
:func:`html.escape` for Telegram) and defused for spreadsheets in the CSV.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.render.text import safe_url
from bot.reports.figures import VALUE_BANDS, division_name
from bot.reports.params import region_label
from feeds.kinds import KINDS

__all__ = [
    "CSV_COLUMNS",
    "Chart",
    "report_csv",
    "report_html",
    "report_text",
    "telegram_summary",
    "title_of",
]

LONDON = ZoneInfo("Europe/London")
#: How many entries of each list the text, Telegram and HTML forms show (JSON/CSV: all).
SHOWN = 10
TELEGRAM_SHOWN = 5
TELEGRAM_MAX = 4000
BAND_NAMES = {
    "under_25k": "under £25k",
    "25k_to_100k": "£25k–£100k",
    "100k_to_500k": "£100k–£500k",
    "500k_to_2m": "£500k–£2m",
    "over_2m": "over £2m",
    "not_stated": "value not stated",
}
assert set(BAND_NAMES) == {key for key, _ in VALUE_BANDS} | {"not_stated"}


# ----------------------------------------------------------------------------- phrases


def money(value: object) -> str:
    """``37339510.67`` → ``£37.3m``; ``476999`` → ``£477k``; None → ``not stated``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "not stated"
    if value >= 999_500:
        return f"£{value / 1_000_000:.1f}m".replace(".0m", "m")
    if value >= 1_000:
        return f"£{value / 1_000:.0f}k"
    return f"£{value:,.0f}"


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def day(text: object, tz: ZoneInfo = LONDON) -> str:
    """An ISO moment as ``"7 Apr 2025"`` in UK time (``"—"`` when missing)."""
    moment = _moment(text)
    return f"{moment.astimezone(tz):%-d %b %Y}" if moment else "—"


def window_text(report: Mapping[str, Any], tz: ZoneInfo = LONDON) -> str:
    """``"1 Jan 2025 – 31 Mar 2025"``: the window's last day is the day before ``to``."""
    start = _moment(report["window"]["from"])
    end = _moment(report["window"]["to"])
    if start is None or end is None:
        return ""
    last = (end - timedelta(microseconds=1)).astimezone(tz)
    return f"{start.astimezone(tz):%-d %b %Y} – {last:%-d %b %Y}"


def title_of(report: Mapping[str, Any]) -> str:
    about = report["about"]
    return f"Market report: {about['region_name']} ({about['region']}), {window_text(report)}"


def horizon_text(days: int) -> str:
    """``548`` → ``"18 months"``; short horizons stay in days."""
    return f"{round(days / (365.25 / 12))} months" if days >= 60 else f"{days} days"


def share(value: object) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, int | float) else "—"


def kind_name(kind: str) -> str:
    found = KINDS.get(kind)
    return found.name if found else kind


def area_name(code: str) -> str:
    return "not stated" if code == "not_stated" else f"{region_label(code)} ({code})"


V = TypeVar("V")


def _top(counts: Mapping[str, V], n: int) -> list[tuple[str, V]]:
    return list(counts.items())[:n]


def awards_line(awards: Mapping[str, Any]) -> str:
    return (
        f"{awards['count']} contracts awarded, worth {money(awards['value'])} "
        f"({awards['with_value']} with a value); to SMEs {share(awards['share_sme'])} "
        f"({awards['sme_awards']} of {awards['sme_stated']} that say), to VCSEs "
        f"{share(awards['share_vcse'])} ({awards['vcse_awards']} of {awards['vcse_stated']})"
    )


def _ending_line(entry: Mapping[str, Any]) -> str:
    supplier = entry.get("supplier") or "supplier not stated"
    return (
        f"{day(entry['end_date'])} — {entry['title']} — {entry.get('buyer') or 'buyer not stated'}"
        f" — now: {supplier} — {money(entry.get('value'))}"
    )


def _closing_line(entry: Mapping[str, Any]) -> str:
    return (
        f"{day(entry['deadline'])} — {entry['title']} — "
        f"{entry.get('buyer') or 'buyer not stated'} — {money(entry.get('value'))}"
    )


def _signal_line(entry: Mapping[str, Any]) -> str:
    dates = [
        f"{label} {day(entry[key])}"
        for key, label in (
            ("engagement_end", "engagement closes"),
            ("future_notice", "tender expected"),
            ("contract_start", "contract starts"),
        )
        if entry.get(key)
    ]
    when = "; ".join(dates) or f"published {day(entry.get('published'))}"
    return f"{entry['kind_name']}: {entry['title']} — {entry.get('buyer') or '—'} ({when})"


# ----------------------------------------------------------------------------- text


def report_text(report: Mapping[str, Any]) -> str:
    """The report as plain text, for a terminal or a plain-text email part."""
    about, opp = report["about"], report["opportunities"]
    lines = [
        title_of(report),
        f"(from the {about['source']}; made {day(about['generated_at'])})",
        "",
    ]
    lines.append(
        f"Opportunities: {opp['total']} — {opp['suitable_sme']} suitable for SMEs, "
        f"{opp['suitable_vcse']} for VCSEs"
    )
    if opp["by_cpv_division"]:
        lines.append("  by sector:")
        lines += [
            f"    {key} {division_name(key)}: {n}" for key, n in _top(opp["by_cpv_division"], SHOWN)
        ]
    if opp["by_notice_kind"]:
        kinds = ", ".join(f"{kind_name(k)} {n}" for k, n in opp["by_notice_kind"].items())
        lines.append(f"  by kind: {kinds}")
    if opp["by_value_band"]:
        bands = ", ".join(f"{BAND_NAMES[k]} {n}" for k, n in opp["by_value_band"].items())
        lines.append(f"  by value: {bands}")
    if opp["by_region"]:
        areas = ", ".join(f"{area_name(k)} {n}" for k, n in _top(opp["by_region"], SHOWN))
        lines.append(f"  by area: {areas}")
    sections: list[tuple[str, Sequence[Mapping[str, Any]], Any]] = [
        (
            f"Closing in the next {about['closing_within_days']} days",
            report["closing_soon"],
            _closing_line,
        ),
        ("Early signals (pipeline, engagement, planned)", report["early_signals"], _signal_line),
        (
            f"Contracts ending in the next {horizon_text(about['horizon_days'])} "
            "(re-tender forecast)",
            report["contracts_ending"],
            _ending_line,
        ),
    ]
    for heading, entries, line in sections:
        lines += ["", f"{heading}: {len(entries)}"]
        lines += [f"  • {line(e)}" for e in entries[:SHOWN]]
        if len(entries) > SHOWN:
            lines.append(f"  … and {len(entries) - SHOWN} more (see the CSV or JSON)")
    lines += ["", "Awards: " + awards_line(report["awards"])]
    lines += _unserved_lines(report["unserved_demand"])
    lines += _database_lines(report)
    return "\n".join(lines) + "\n"


def _unserved_lines(unserved: Sequence[Mapping[str, Any]] | None) -> list[str]:
    if unserved is None:
        return ["", "Unserved demand: not known (no subscribers' matches in this report)"]
    lines = ["", f"Unserved demand (sectors no subscriber heard about): {len(unserved)}"]
    lines += [
        f"  • {u['cpv_division']} {u['name']}: {u['unmatched']} of {u['opportunities']}"
        for u in unserved[:SHOWN]
    ]
    return lines


def _database_lines(report: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    feedback, enquiries, service = report["feedback"], report["enquiries"], report["service"]
    if feedback is not None:
        lines += [
            "",
            f"Feedback: {feedback['marked']} alerts marked, "
            f"{share(feedback['share_relevant'])} relevant",
        ]
        lines += [
            f"  • {trade} {division_name(trade)}: {share(t['share_relevant'])} of {t['marked']}"
            for trade, t in _top(feedback["by_trade"], SHOWN)
        ]
    if enquiries is not None:
        median = enquiries["median_first_response_hours"]
        lines += [
            "",
            f"Enquiries: {enquiries['total']} ({enquiries['answered']} answered; median first "
            f"response {'—' if median is None else f'{median:g} h'})",
        ]
        lines += [f"  • {topic}: {n}" for topic, n in enquiries["by_topic"].items()]
    if service is not None:
        lines += [
            "",
            f"Service: {service['alerts_sent']} alerts sent, {service['alerts_failed']} failed, "
            f"{service['alerts_pending']} waiting; {service['messages_sent']} other messages sent",
        ]
        for name, feed in service["feeds"].items():
            state = f"error: {feed['last_error']}" if feed["last_error"] else "ok"
            lines.append(
                f"  • {name}: last success {day(feed['last_success_at'])}, "
                f"last poll {day(feed['last_poll_at'])} ({state})"
            )
    return lines


# ----------------------------------------------------------------------------- Telegram


def telegram_summary(report: Mapping[str, Any]) -> str:
    """A short Telegram HTML summary (the charts follow as photos); every string escaped."""
    esc = html.escape
    opp, about = report["opportunities"], report["about"]
    lines = [
        f"📊 <b>{esc(title_of(report))}</b>",
        "",
        f"<b>{opp['total']}</b> opportunities — {opp['suitable_sme']} suitable for SMEs, "
        f"{opp['suitable_vcse']} for VCSEs",
    ]
    sectors = ", ".join(f"{esc(division_name(k))} {n}" for k, n in _top(opp["by_cpv_division"], 3))
    if sectors:
        lines.append(f"Top sectors: {sectors}")
    lines.append("🏆 " + esc(awards_line(report["awards"])))
    ending = report["contracts_ending"]
    horizon = horizon_text(about["horizon_days"])
    lines += ["", f"🔁 <b>{len(ending)}</b> contracts end in the next {horizon} (forecast)"]
    lines += [f"• {esc(_ending_line(e))}" for e in ending[:TELEGRAM_SHOWN]]
    closing = report["closing_soon"]
    if closing:
        lines += ["", f"⏰ <b>{len(closing)}</b> closing in {about['closing_within_days']} days"]
        lines += [f"• {esc(_closing_line(e))}" for e in closing[:TELEGRAM_SHOWN]]
    unserved = report["unserved_demand"]
    if unserved:
        names = ", ".join(f"{esc(u['name'])} {u['unmatched']}" for u in unserved[:3])
        lines += ["", f"🔎 Nobody heard about: {names}"]
    text = "\n".join(lines)
    return text if len(text) <= TELEGRAM_MAX else text[: TELEGRAM_MAX - 1] + "…"


# ----------------------------------------------------------------------------- HTML


class Chart:
    """A chart for the HTML form: its file name, alt text and where the image is."""

    def __init__(self, name: str, title: str, src: str) -> None:
        self.name, self.title, self.src = name, title, src


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bot.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(report: Mapping[str, Any], charts: Iterable[Chart] = ()) -> str:
    """A self-contained HTML page (and email body). ``charts`` give each image's ``src``:
    ``cid:…`` in an email, a ``data:`` URI or a file name on disk."""
    opp = report["opportunities"]
    context = {
        "title": title_of(report),
        "report": report,
        "about": report["about"],
        "opp": opp,
        "charts": list(charts),
        "sectors": [(k, division_name(k), n) for k, n in opp["by_cpv_division"].items()],
        "kinds": [(kind_name(k), n) for k, n in opp["by_notice_kind"].items()],
        "bands": [(BAND_NAMES[k], n) for k, n in opp["by_value_band"].items()],
        "areas": [(area_name(k), n) for k, n in opp["by_region"].items()],
        "closing": report["closing_soon"][: SHOWN * 2],
        "signals": report["early_signals"][: SHOWN * 2],
        "ending": report["contracts_ending"][: SHOWN * 2],
        "awards_line": awards_line(report["awards"]),
        "unserved": report["unserved_demand"],
        "feedback": report["feedback"],
        "enquiries": report["enquiries"],
        "service": report["service"],
        "shown": SHOWN * 2,
        "horizon": horizon_text(report["about"]["horizon_days"]),
        "money": money,
        "day": day,
        "share": share,
        "division_name": division_name,
        "safe_url": safe_url,
    }
    return _environment().get_template("report.html").render(**context)


# ----------------------------------------------------------------------------- CSV

CSV_COLUMNS = ("section", "key", "value", "ocid", "title", "buyer", "supplier", "date", "url")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _figure_rows(section: str, value: object, key: str = "") -> Iterable[dict[str, object]]:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _figure_rows(section, inner, f"{key}.{name}" if key else str(name))
    elif not isinstance(value, list):
        yield {"section": section, "key": key, "value": value}


def _list_rows(report: Mapping[str, Any]) -> Iterable[dict[str, object]]:
    for entry in report["closing_soon"]:
        yield {"section": "closing_soon", "key": entry["kind"], "date": entry["deadline"], **entry}
    for entry in report["early_signals"]:
        when = entry.get("future_notice") or entry.get("engagement_end") or entry.get("published")
        yield {"section": "early_signals", "key": entry["kind"], "date": when, **entry}
    for entry in report["contracts_ending"]:
        yield {
            "section": "contracts_ending",
            "key": entry["cpv_division"],
            "date": entry["end_date"],
            **entry,
        }
    for entry in report["unserved_demand"] or ():
        yield {
            "section": "unserved_demand",
            "key": entry["cpv_division"],
            "value": entry["unmatched"],
            "title": entry["name"],
        }


def report_csv(report: Mapping[str, Any]) -> str:
    """One spreadsheet-friendly table: every figure as ``section,key,value`` and every list
    entry (closing soon, early signals, contracts ending, unserved demand) as a row with its
    notice, filterable by ``section``."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    rows: list[dict[str, object]] = [
        {"section": "window", "key": "from", "value": report["window"]["from"]},
        {"section": "window", "key": "to", "value": report["window"]["to"]},
        {"section": "about", "key": "region", "value": report["about"]["region"]},
    ]
    for section in ("opportunities", "awards", "feedback", "enquiries", "service"):
        if report[section] is not None:
            rows += _figure_rows(section, report[section])
    rows += _list_rows(report)
    for row in rows:
        writer.writerow({name: _cell(row.get(name)) for name in CSV_COLUMNS})
    return out.getvalue()
