"""The figures only the database knows, computed from what :mod:`storage.reports` reads."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bot.reports.figures import cpv_division
from storage.reports import EnquiryFacts

__all__ = ["enquiry_figures", "feedback_figures"]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def feedback_figures(marks: Iterable[tuple[bool, Sequence[str]]]) -> dict[str, Any]:
    """``feedback``: the 👍/👎 given in the window, the share marked relevant, and the same
    by trade (the CPV division of the notice marked): where matching serves people well
    and where it needs their keywords changed."""
    marked: Counter[str] = Counter()
    relevant: Counter[str] = Counter()
    for is_relevant, cpv in marks:
        trade = cpv_division(cpv)
        marked[trade] += 1
        relevant[trade] += is_relevant
    total, up = sum(marked.values()), sum(relevant.values())
    by_trade = {
        trade: {
            "marked": n,
            "relevant": relevant[trade],
            "share_relevant": _share(relevant[trade], n),
        }
        for trade, n in sorted(marked.items(), key=lambda kv: (-kv[1], kv[0]))
    }
    return {
        "marked": total,
        "relevant": up,
        "share_relevant": _share(up, total),
        "by_trade": by_trade,
    }


def enquiry_figures(facts: Iterable[EnquiryFacts]) -> dict[str, Any]:
    """``enquiries``: questions asked in the window by topic, how many were answered, and
    the median time to the first answer (in hours) of those that were."""
    rows = list(facts)
    waits = [
        (row.first_response_at - row.created_at).total_seconds() / 3600
        for row in rows
        if row.first_response_at is not None
    ]
    topics = Counter(row.topic for row in rows)
    return {
        "total": len(rows),
        "by_topic": dict(sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))),
        "answered": len(waits),
        "median_first_response_hours": round(statistics.median(waits), 2) if waits else None,
    }
