"""Each figure of the report, computed from procurements (pure functions, no I/O).

Every function takes the procurements and the :class:`~bot.reports.params.ReportParams`
and returns plain JSON values (dicts, lists, numbers, ISO 8601 strings), so the JSON
report is just these results side by side. What each figure counts is documented in
``docs/reports.md``; the docstrings here say why it is counted that way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.reports.params import ReportParams, in_region, subregion
from bot.reports.procurements import NO_CONTRACT, Procurement, adjusted_end
from feeds.kinds import DYNAMIC_MARKET_KINDS, KINDS, OPPORTUNITY_KINDS
from feeds.notice import Award, Notice, Value, first_deadline, still_open
from matchers.cpv import label

__all__ = [
    "EARLY_KINDS",
    "VALUE_BANDS",
    "award_figures",
    "closing_soon",
    "contracts_ending",
    "cpv_division",
    "division",
    "division_name",
    "early_signals",
    "opportunities",
    "opportunity_list",
    "unserved_demand",
    "value_band",
]

#: Notices that say a contract is coming before it is tendered.
EARLY_KINDS = frozenset({"pipeline", "engagement", "planned", "dm_intention"})
NO_CPV = "none"
TOP_BUYERS = 15
NOT_STATED = "not_stated"
#: (key, upper bound in £, exclusive); the last band has no bound.
VALUE_BANDS: tuple[tuple[str, float | None], ...] = (
    ("under_25k", 25_000),
    ("25k_to_100k", 100_000),
    ("100k_to_500k", 500_000),
    ("500k_to_2m", 2_000_000),
    ("over_2m", None),
)


# ----------------------------------------------------------------------------- helpers


def cpv_division(cpv: Sequence[str]) -> str:
    """The CPV division (first two digits of the main, i.e. first, CPV code), or ``none``:
    the report's "sector" and "trade"."""
    for code in cpv:
        digits = "".join(ch for ch in code if ch.isdigit())
        if len(digits) >= 2:
            return digits[:2]
    return NO_CPV


def division(notice: Notice) -> str:
    return cpv_division(notice.cpv)


def division_name(key: str) -> str:
    """``"45"`` → ``"Construction work"``."""
    if key == NO_CPV:
        return "No CPV code given"
    return label(key + "000000") or f"CPV division {key}"


def amount(value: Value | None) -> float | None:
    """A value as one number: the stated (upper) amount, else the lower bound; a zero or
    negative figure is how some publishers leave the value out, so it is not stated."""
    if value is None:
        return None
    figure = value.amount if value.amount is not None else value.min
    return figure if figure is not None and figure > 0 else None


def value_band(value: Value | None) -> str:
    figure = amount(value)
    if figure is None:
        return NOT_STATED
    for key, bound in VALUE_BANDS:
        if bound is None or figure < bound:
            return key
    raise AssertionError("unreachable")  # pragma: no cover


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _regional(procurements: Iterable[Procurement], params: ReportParams) -> list[Procurement]:
    return [p for p in procurements if in_region(p.notice.regions, params.region)]


def _item(procurement: Procurement) -> dict[str, Any]:
    """The keys every list entry of the report shares."""
    notice = procurement.notice
    return {
        "ocid": notice.ocid,
        "source": notice.source,
        "title": notice.title,
        "buyer": notice.buyer,
        "kind": notice.kind,
        "value": amount(notice.value),
        "cpv_division": division(notice),
        "regions": list(notice.regions),
        "url": notice.url,
    }


# ----------------------------------------------------------------------------- opportunities


def opportunity_list(
    procurements: Iterable[Procurement], params: ReportParams
) -> list[Procurement]:
    """Opportunities of the window: in the region, something an enterprise can act on now
    or prepare for (:data:`feeds.kinds.OPPORTUNITY_KINDS`), first published as such in the
    window. A tender amended three times is one opportunity, counted when it appeared."""
    return [
        p
        for p in _regional(procurements, params)
        if p.notice.kind in OPPORTUNITY_KINDS and params.in_window(p.opened)
    ]


def opportunities(procurements: Iterable[Procurement], params: ReportParams) -> dict[str, Any]:
    """``opportunities``: totals and breakdowns of :func:`opportunity_list`."""
    found = opportunity_list(procurements, params)
    by_region: Counter[str] = Counter()
    for p in found:
        keys = {subregion(code, params.region) for code in p.notice.regions}
        keys = {k for k in keys if in_region((k,), params.region) and k not in ("UK", "ENG")}
        for key in keys or {NOT_STATED}:
            by_region[key] += 1
    bands = Counter(value_band(p.notice.value) for p in found)
    buyers = Counter(
        p.notice.buyer.strip() for p in found if p.notice.buyer and p.notice.buyer.strip()
    )
    return {
        "total": len(found),
        "by_cpv_division": _sorted_counts(Counter(division(p.notice) for p in found)),
        "by_region": _sorted_counts(by_region),
        "by_value_band": {
            key: bands[key] for key, _ in (*VALUE_BANDS, (NOT_STATED, None)) if bands[key]
        },
        "by_notice_kind": _sorted_counts(Counter(p.notice.kind for p in found)),
        "suitable_sme": sum(p.notice.suitable_sme is True for p in found),
        "suitable_vcse": sum(p.notice.suitable_vcse is True for p in found),
        "by_buyer": dict(list(_sorted_counts(buyers).items())[:TOP_BUYERS]),
        "over_time": over_time(found, params),
    }


def _period_start(moment: datetime, unit: str) -> date:
    day = moment.astimezone(UTC).date()
    if unit == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def over_time(found: Sequence[Procurement], params: ReportParams) -> dict[str, Any]:
    """Opportunities by sector per week (per month for windows over 16 weeks), every
    period of the window listed even when empty, so a chart shows the quiet weeks too."""
    unit = "week" if params.end - params.start <= timedelta(weeks=16) else "month"
    periods: dict[date, Counter[str]] = {}
    cursor = _period_start(params.start, unit)
    last = _period_start(params.end - timedelta(microseconds=1), unit)
    while cursor <= last:
        periods[cursor] = Counter()
        cursor = (
            cursor + timedelta(days=7)
            if unit == "week"
            else (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        )
    for p in found:
        assert p.opened is not None  # in the window
        periods[_period_start(p.opened, unit)][division(p.notice)] += 1
    return {
        "unit": unit,
        "periods": [
            {
                "start": start.isoformat(),
                "total": sum(c.values()),
                "by_cpv_division": _sorted_counts(c),
            }
            for start, c in periods.items()
        ],
    }


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    """Largest first, then by key: stable output for the same data."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def closing_soon(procurements: Iterable[Procurement], params: ReportParams) -> list[dict[str, Any]]:
    """``closing_soon``: opportunities in the region still open at the end of the window
    whose first deadline falls within ``closing_within`` of it, soonest first — whenever
    they were published (a tender out for six weeks closes in the last one)."""
    found = []
    limit = params.end + params.closing_within
    for p in _regional(procurements, params):
        if p.notice.kind not in OPPORTUNITY_KINDS or not still_open(p.notice, params.end):
            continue
        deadline = first_deadline(p.notice)
        if deadline is not None and params.end < deadline <= limit:
            entry = _item(p)
            entry.update(
                deadline=deadline.isoformat(),
                suitable_sme=p.notice.suitable_sme,
                suitable_vcse=p.notice.suitable_vcse,
            )
            found.append((deadline, p.notice.title, entry))
    return [entry for _, _, entry in sorted(found, key=lambda t: (t[0], t[1]))]


def _signal_dates(notice: Notice) -> dict[str, datetime | None]:
    return {
        "engagement_end": notice.dates.engagement_end,
        "future_notice": notice.dates.future_notice,
        "contract_start": notice.dates.contract_start or _lot_start(notice),
    }


def _lot_start(notice: Notice) -> datetime | None:
    starts = [lot.contract_start for lot in notice.lots if lot.contract_start]
    return min(starts) if starts else None


def early_signals(
    procurements: Iterable[Procurement], params: ReportParams
) -> list[dict[str, Any]]:
    """``early_signals``: pipeline, market engagement, planned procurement and coming
    dynamic market notices in the region — published in the window, or still looking
    ahead (a date they give is after the window), soonest upcoming date first. They are
    the months of notice a small organisation needs to get ready to bid."""
    found = []
    for p in _regional(procurements, params):
        if p.notice.kind not in EARLY_KINDS:
            continue
        dates = _signal_dates(p.notice)
        upcoming = sorted(d for d in dates.values() if d is not None and d >= params.end)
        if not upcoming and not params.in_window(p.opened):
            continue
        entry = _item(p)
        entry["kind_name"] = KINDS[p.notice.kind].name
        entry["published"] = _iso(p.opened)
        entry.update({name: _iso(moment) for name, moment in dates.items()})
        next_date = upcoming[0] if upcoming else None
        found.append((next_date is None, next_date, p.notice.title, entry))
    found.sort(key=lambda t: (t[0], t[1] or params.end, t[2]))
    return [entry for *_, entry in found]


# ----------------------------------------------------------------------------- awards


def _contract_awards(p: Procurement) -> list[Award]:
    """Awards that became (or will become) contracts: not a dynamic market's admitted
    suppliers, not a cancelled or unsuccessful award."""
    if p.notice.kind in DYNAMIC_MARKET_KINDS:
        return []
    return [a for a in p.awards if (a.status or "").lower() not in NO_CONTRACT]


def _supplier_text(award: Award) -> str | None:
    names = [s.name for s in award.suppliers]
    if not names:
        return None
    shown = "; ".join(names[:3])
    return shown if len(names) <= 3 else f"{shown} and {len(names) - 3} more"


def contracts_ending(
    procurements: Iterable[Procurement], params: ReportParams
) -> list[dict[str, Any]]:
    """``contracts_ending``: the re-tender forecast. Awarded contracts in the region whose
    end — after later contract changes (:func:`~bot.reports.procurements.adjusted_end`) —
    falls after the window and within ``horizon``, soonest first. A contract that ends is
    usually tendered again, and the incumbent's name says who the enterprise competes
    with (or could partner)."""
    found = []
    limit = params.end + params.horizon
    for p in _regional(procurements, params):
        for award in _contract_awards(p):
            end, value = adjusted_end(p, award)
            if end is None or not params.end < end <= limit:
                continue
            entry = _item(p)
            entry.update(
                award_id=award.id,
                title=award.title or p.notice.title,
                supplier=_supplier_text(award),
                suppliers=[s.name for s in award.suppliers],
                value=amount(value),
                end_date=end.isoformat(),
                max_end_date=_iso(award.contract_max_end),
                changed=end != award.contract_end or value != award.value,
            )
            found.append((end, p.notice.ocid, award.id, entry))
    return [entry for *_, entry in sorted(found, key=lambda t: (t[0], t[1], t[2]))]


def _award_moment(p: Procurement, award: Award) -> datetime | None:
    return award.date or award.signed or p.notice.published


def award_figures(procurements: Iterable[Procurement], params: ReportParams) -> dict[str, Any]:
    """``awards``: contracts awarded in the window in the region (by award date, else the
    notice's), their total stated value, and the share that went to SMEs and to VCSEs.

    A share counts an award as going to an SME (VCSE) when any supplier on it is one, out
    of the awards whose notice says for at least one supplier; awards that say nothing
    are left out of the share rather than counted as "no".
    """
    made = [
        award
        for p in _regional(procurements, params)
        for award in _contract_awards(p)
        if params.in_window(_award_moment(p, award))
    ]
    values = [v for a in made if (v := amount(a.value)) is not None]
    figures: dict[str, Any] = {
        "count": len(made),
        "value": round(sum(values), 2),
        "with_value": len(values),
    }
    for flag in ("sme", "vcse"):
        stated = [a for a in made if any(getattr(s, flag) is not None for s in a.suppliers)]
        yes = [a for a in stated if any(getattr(s, flag) is True for s in a.suppliers)]
        figures[f"{flag}_awards"] = len(yes)
        figures[f"{flag}_stated"] = len(stated)
        figures[f"share_{flag}"] = round(len(yes) / len(stated), 3) if stated else None
    return figures


# ----------------------------------------------------------------------------- demand


def unserved_demand(
    procurements: Sequence[Procurement], params: ReportParams
) -> list[dict[str, Any]] | None:
    """``unserved_demand``: CPV divisions whose opportunities reached no subscriber — the
    trades SEEM has no member watching for (None when who matched is not known)."""
    found = opportunity_list(procurements, params)
    if any(p.matched is None for p in found):
        return None
    total = Counter(division(p.notice) for p in found)
    unmatched = Counter(division(p.notice) for p in found if not p.matched)
    rows = [
        {
            "cpv_division": key,
            "name": division_name(key),
            "opportunities": total[key],
            "unmatched": n,
        }
        for key, n in unmatched.items()
    ]
    return sorted(rows, key=lambda r: (-r["unmatched"], r["cpv_division"]))
