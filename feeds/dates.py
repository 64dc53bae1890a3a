"""The dates a notice states besides its tender deadline → :class:`feeds.notice.NoticeDates`.

Where each lives (UK profile of OCDS 1.1, and Contracts Finder, which uses the
same fields):

* expression of interest / request to participate: ``tender.expressionOfInterestDeadline``
  (UK extension). Two-stage procedures (the competitive flexible procedure
  with a participation stage) give this *instead of* ``tender.tenderPeriod``.
* engagement close (UK2, CF "Early engagement"): the ``dueDate`` of
  ``planning.milestones[]`` with ``type: "engagement"`` (latest one, if the
  buyer lists several engagement events); ``tender.milestones`` is read too.
* expected date of the next notice, usually the tender (UK1, UK3, CF "Future
  opportunity"): ``tender.communication.futureNoticeDate``, else
  ``planning.communication.futureNoticeDate``.
* clarification questions: ``tender.enquiryPeriod.endDate`` (not a
  submission deadline).
* contract period, from the most settled source that gives one: the signed
  ``contracts[].period``, else ``awards[].contractPeriod``, else
  ``tender.contractPeriod``, else ``tender.lots[].contractPeriod`` (Find a
  Tender gives it per lot only); the earliest start and latest end of that
  source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from feeds.fields import as_dict, dicts, parse_datetime, period, text
from feeds.notice import NoticeDates


def engagement_end(release: Mapping[str, Any]) -> datetime | None:
    """When the market engagement closes: the last ``engagement`` milestone's due date."""
    holders = (as_dict(release.get("planning")), as_dict(release.get("tender")))
    dues = [
        due
        for holder in holders
        for milestone in dicts(holder.get("milestones"))
        if (text(milestone.get("type")) or "").lower() == "engagement"
        and (due := parse_datetime(milestone.get("dueDate"))) is not None
    ]
    return max(dues) if dues else None


def future_notice(release: Mapping[str, Any]) -> datetime | None:
    for holder in (as_dict(release.get("tender")), as_dict(release.get("planning"))):
        due = parse_datetime(as_dict(holder.get("communication")).get("futureNoticeDate"))
        if due is not None:
            return due
    return None


def _periods(release: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Contract periods by source, most settled first."""
    tender = as_dict(release.get("tender"))
    yield [as_dict(c.get("period")) for c in dicts(release.get("contracts"))]
    yield [as_dict(a.get("contractPeriod")) for a in dicts(release.get("awards"))]
    yield [as_dict(tender.get("contractPeriod"))]
    yield [as_dict(lot.get("contractPeriod")) for lot in dicts(tender.get("lots"))]


def contract_period(release: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Earliest start and latest end of the first source that states either."""
    for spans in _periods(release):
        bounds = [period(span) for span in spans]
        starts = [start for start, _ in bounds if start is not None]
        ends = [end for _, end in bounds if end is not None]
        if starts or ends:
            return (min(starts) if starts else None), (max(ends) if ends else None)
    return None, None


def parse_dates(release: Mapping[str, Any]) -> NoticeDates:
    tender = as_dict(release.get("tender"))
    start, end = contract_period(release)
    return NoticeDates(
        expression_of_interest=parse_datetime(tender.get("expressionOfInterestDeadline")),
        engagement_end=engagement_end(release),
        future_notice=future_notice(release),
        enquiry_end=period(tender.get("enquiryPeriod"))[1],
        contract_start=start,
        contract_end=end,
    )
