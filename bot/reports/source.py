"""Where a report's procurements come from: the database, or files read offline.

Both give the same :class:`~bot.reports.procurements.Procurement` values, so a report made
from the files that were polled agrees with one made from the database they were polled
into (the tests check it). Only procurements that can appear in the report are kept in
memory: the database is read in batches and each one is filtered as it is folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.reports.build import Extras, build_report
from bot.reports.extras import enquiry_figures, feedback_figures
from bot.reports.figures import EARLY_KINDS
from bot.reports.params import ReportParams, in_region
from bot.reports.procurements import (
    Procurement,
    adjusted_end,
    fold,
    procurements_from_notices,
)
from feeds.notice import Notice
from matchers.engine import Matcher
from matchers.profile import Profile
from storage.db import Database
from storage.reports import (
    enquiry_facts,
    feedback_marks,
    report_notices,
    service_facts,
)

__all__ = [
    "database_procurements",
    "may_appear",
    "procurements_from_files",
    "report_from_database",
    "report_from_files",
]


def may_appear(procurement: Procurement, params: ReportParams) -> bool:
    """Whether the procurement can count anywhere in a report over ``params`` (a cheap
    first filter; the figures apply their own exact rules)."""
    notice = procurement.notice
    if not in_region(notice.regions, params.region):
        return False
    if params.in_window(procurement.opened) or params.in_window(notice.published):
        return True
    if notice.kind in EARLY_KINDS:
        return True
    if notice.deadline is not None and notice.deadline > params.end:
        return True
    for award in procurement.awards:
        end, _ = adjusted_end(procurement, award)
        if (end is not None and end > params.end) or params.in_window(award.date or award.signed):
            return True
    return False


def _notice(source: str, ocid: str, data: dict[str, object]) -> Notice:
    return Notice.from_json_dict({**data, "source": source, "ocid": ocid})


async def database_procurements(db: Database, params: ReportParams) -> list[Procurement]:
    """The stored procurements a report over ``params`` can use (canonical copies only)."""
    kept: list[Procurement] = []
    async with db.session() as session:
        async for batch in report_notices(
            session, changed_since=params.start, open_after=params.end
        ):
            for stored in batch:
                releases = [_notice(stored.source, stored.ocid, data) for data in stored.versions]
                procurement = fold(releases, matched=stored.matched, notice_id=stored.notice_id)
                if may_appear(procurement, params):
                    kept.append(procurement)
    return kept


async def database_extras(db: Database, params: ReportParams) -> Extras:
    async with db.session() as session:
        marks = await feedback_marks(session, params.start, params.end)
        facts = await enquiry_facts(session, params.start, params.end)
        service = await service_facts(session, params.start, params.end)
    return Extras(
        feedback=feedback_figures(marks), enquiries=enquiry_figures(facts), service=service
    )


async def report_from_database(
    db: Database, params: ReportParams, *, generated_at: datetime
) -> dict[str, Any]:
    """The whole report from the database."""
    procurements = await database_procurements(db, params)
    extras = await database_extras(db, params)
    return build_report(
        procurements, params, generated_at=generated_at, source="database", extras=extras
    )


def procurements_from_files(
    notices: Iterable[Notice], profiles: Sequence[Profile] | None = None
) -> list[Procurement]:
    """Procurements from releases read from files; with ``profiles``, each is marked
    matched when at least one profile matches its newest release (``unserved_demand``)."""
    procurements = procurements_from_notices(notices)
    if profiles is None:
        return procurements
    newest = [p.notice for p in procurements]
    hits = {m.notice_ocid for m in Matcher(profiles).match(newest)} if profiles else set()
    return [replace(p, matched=p.notice.ocid in hits) for p in procurements]


def report_from_files(
    notices: Iterable[Notice],
    params: ReportParams,
    *,
    generated_at: datetime,
    profiles: Sequence[Profile] | None = None,
) -> dict[str, Any]:
    """The report from files (no feedback, enquiries or service figures: None)."""
    procurements = procurements_from_files(notices, profiles)
    return build_report(procurements, params, generated_at=generated_at, source="files")
