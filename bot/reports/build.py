"""The whole report as one JSON-ready dict, with a stable set of keys (``docs/reports.md``).

Figures from notices are computed here from procurements; what only the database knows
(feedback, enquiries, the service's own health) is passed in already computed, and is
``None`` in a report made from files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.reports import figures
from bot.reports.params import ReportParams, region_label
from bot.reports.procurements import Procurement

__all__ = ["REPORT_KEYS", "REPORT_VERSION", "Extras", "build_report"]

REPORT_VERSION = 1
#: The top-level keys, in order: the stable interface of ``bestbot report --format json``.
REPORT_KEYS: tuple[str, ...] = (
    "about",
    "window",
    "opportunities",
    "closing_soon",
    "early_signals",
    "contracts_ending",
    "awards",
    "unserved_demand",
    "feedback",
    "enquiries",
    "service",
)


@dataclass(frozen=True, slots=True)
class Extras:
    """The database's own figures (see :mod:`storage.reports`), already JSON-ready."""

    feedback: Mapping[str, Any] | None = None
    enquiries: Mapping[str, Any] | None = None
    service: Mapping[str, Any] | None = None


def build_report(
    procurements: Sequence[Procurement],
    params: ReportParams,
    *,
    generated_at: datetime,
    source: str,
    extras: Extras | None = None,
) -> dict[str, Any]:
    """Every figure of the report; ``source`` is ``"database"`` or ``"files"``."""
    extras = extras or Extras()
    report: dict[str, Any] = {
        "about": {
            "version": REPORT_VERSION,
            "generated_at": generated_at.isoformat(),
            "source": source,
            "region": params.region,
            "region_name": region_label(params.region),
            "horizon_days": params.horizon.days,
            "closing_within_days": params.closing_within.days,
            "procurements": len(procurements),
        },
        "window": {"from": params.start.isoformat(), "to": params.end.isoformat()},
        "opportunities": figures.opportunities(procurements, params),
        "closing_soon": figures.closing_soon(procurements, params),
        "early_signals": figures.early_signals(procurements, params),
        "contracts_ending": figures.contracts_ending(procurements, params),
        "awards": figures.award_figures(procurements, params),
        "unserved_demand": figures.unserved_demand(procurements, params),
        "feedback": dict(extras.feedback) if extras.feedback is not None else None,
        "enquiries": dict(extras.enquiries) if extras.enquiries is not None else None,
        "service": dict(extras.service) if extras.service is not None else None,
    }
    assert tuple(report) == REPORT_KEYS
    return report
