"""What a report covers: its window, its region and how far ahead it looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matchers.regions import ENGLAND, ENGLISH_REGIONS, is_national, name_of

__all__ = [
    "DEFAULT_CLOSING_WITHIN",
    "DEFAULT_HORIZON",
    "ReportParams",
    "in_region",
    "region_label",
    "subregion",
]

#: About 18 months, as ``[reports] horizon`` defaults to.
DEFAULT_HORIZON = timedelta(days=548)
#: "Closing soon" in a weekly report: the next two weeks.
DEFAULT_CLOSING_WITHIN = timedelta(days=14)
NATIONAL = "UK"


@dataclass(frozen=True, slots=True)
class ReportParams:
    """``start`` ≤ moment < ``end`` is the window (aware datetimes, UTC); ``end`` is also
    "now" for what is still open, closing soon or ending within ``horizon``. ``region`` is a
    NUTS code, ``"UK"`` (everything) or ``"ENG"`` (England)."""

    start: datetime
    end: datetime
    region: str = NATIONAL
    horizon: timedelta = DEFAULT_HORIZON
    closing_within: timedelta = DEFAULT_CLOSING_WITHIN

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=UTC))
            else:
                object.__setattr__(self, name, moment.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError("the report window must end after it starts")

    def in_window(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def region_label(code: str) -> str:
    """``"UKF"`` → ``"East Midlands"``, ``"UK"`` → ``"United Kingdom"``."""
    if code == NATIONAL:
        return "United Kingdom"
    return name_of(code)


def in_region(codes: tuple[str, ...], region: str) -> bool:
    """Whether a notice's places put it in the report's region.

    A notice counts when it names a place inside the region (``UKF14`` for ``UKF``) or the
    wider area the region is part of (``UKF`` for a ``UKF1`` report). National notices
    (UK-wide, England-wide, or naming every English region) count only in a UK or England
    report, and notices without a place only in a UK report, so that a regional report is
    about that region's own demand.
    """
    if region == NATIONAL:
        return True
    if region == ENGLAND:
        return any(code[:3] in ENGLISH_REGIONS or code == ENGLAND for code in codes)
    if is_national(codes):
        return False
    return any(
        code.startswith(region) or (code not in (NATIONAL, ENGLAND) and region.startswith(code))
        for code in codes
    )


def subregion(code: str, region: str) -> str:
    """The code one level below the report's region that ``code`` falls in (by_region keys).

    A UK or England report breaks down by NUTS1 (``UKF``), an ``UKF`` report by NUTS2
    (``UKF1``), and so on down to NUTS3; a code coarser than that level is its own key.
    """
    depth = 3 if region in (NATIONAL, ENGLAND) else min(len(region) + 1, 5)
    return code[:depth]
