"""Stages: from OCDS release tags and from Find a Tender's UK1–UK17 notice types.

The stage decides whether a notice is an *opportunity* (planning/tender: a
social enterprise can still act) or history (award/contract), so subscribers'
``stages`` preference and the "open" test below both rest on it.

UK notice types are the Procurement Act 2023 notices (in force 24 Feb 2025),
see https://www.find-tender.service.gov.uk/Home/NoticeTypes; their meaning and
why each maps where it does is in docs/feeds.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

UK_NOTICE_TYPES: dict[str, tuple[str, str]] = {
    "UK1": ("pipeline notice", "planning"),
    "UK2": ("preliminary market engagement notice", "planning"),
    "UK3": ("planned procurement notice", "planning"),
    "UK4": ("tender notice", "tender"),
    # A transparency notice announces a *direct* award to a named supplier: nothing to bid for.
    "UK5": ("transparency notice", "award"),
    "UK6": ("contract award notice", "award"),
    # Published once the contract has been entered into.
    "UK7": ("contract details notice", "contract"),
    "UK8": ("payments compliance notice", "contract"),
    "UK9": ("contract performance notice", "contract"),
    "UK10": ("contract change notice", "contract"),
    "UK11": ("contract termination notice", "contract"),
    "UK12": ("procurement termination notice", "cancelled"),
    "UK13": ("dynamic market notice - intention to establish", "planning"),
    # Suppliers can apply to join an established or modified dynamic market: an opportunity.
    "UK14": ("dynamic market notice - establishment", "tender"),
    "UK15": ("dynamic market notice - modification", "tender"),
    "UK16": ("dynamic market notice - cessation", "cancelled"),
    "UK17": ("contract payments notice", "contract"),
}

_TAG_STAGE: dict[str, str] = {
    "planning": "planning",
    "planningupdate": "planning",
    "tender": "tender",
    "tenderamendment": "tender",
    "tenderupdate": "tender",
    "tendercancellation": "cancelled",
    "award": "award",
    "awardupdate": "award",
    "awardcancellation": "cancelled",
    "contract": "contract",
    "contractupdate": "contract",
    "contractamendment": "contract",
    "implementation": "contract",
    "implementationupdate": "contract",
    "contracttermination": "contract",
}
_CANCELLED_STATUSES = frozenset({"cancelled", "withdrawn"})
OPEN_STAGES = frozenset({"planning", "tender"})


def stage_from_notice_type(notice_type: str | None) -> str | None:
    """``"UK4"`` → ``"tender"``; None for anything that is not a known UK code."""
    if not notice_type:
        return None
    entry = UK_NOTICE_TYPES.get(notice_type.strip().upper())
    return entry[1] if entry else None


def stage_from_tags(tags: Iterable[str]) -> str | None:
    """The stage of the first recognised tag (``["award", "contract"]`` → ``"award"``).

    A cancellation tag anywhere wins, because it changes what the notice means.
    """
    stages = [_TAG_STAGE.get(tag.strip().lower()) for tag in tags]
    known = [stage for stage in stages if stage is not None]
    if "cancelled" in known:
        return "cancelled"
    return known[0] if known else None


def pick_stage(*, tags: Iterable[str], notice_type: str | None, tender_status: str | None) -> str:
    """Combine the signals: cancelled status > UK notice type > tag > ``"unknown"``.

    The UK notice type is preferred over the tag because Find a Tender tags a
    UK6 award notice ``["award", "contract"]`` and a UK code is exact.
    """
    if tender_status and tender_status.strip().lower() in _CANCELLED_STATUSES:
        return "cancelled"
    tag_stage = stage_from_tags(tags)
    if tag_stage == "cancelled":
        return "cancelled"
    return stage_from_notice_type(notice_type) or tag_stage or "unknown"


def is_open(stage: str, deadline: datetime | None, now: datetime) -> bool:
    """Can a supplier still act on this notice? Planning always; tender until its deadline.

    ``now`` must be timezone-aware (deadlines are). A tender without a
    deadline counts as open: better one alert too many than a missed one.
    """
    if stage == "planning":
        return True
    if stage != "tender":
        return False
    return deadline is None or deadline > now
