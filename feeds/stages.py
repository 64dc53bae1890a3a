"""Stages: from OCDS release tags and from Find a Tender's UK1–UK17 notice types.

The finer classification (which of the seventeen kinds of notice this is, and
who should hear about it) is :mod:`feeds.kinds`; every kind belongs to one of
the stages here.

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
    # There is no UK8: the Act's notice list skips the number.
    "UK9": ("contract performance notice", "contract"),
    "UK10": ("contract change notice", "contract"),
    "UK11": ("contract termination notice", "contract"),
    "UK12": ("procurement termination notice", "cancelled"),
    "UK13": ("dynamic market notice - intention to establish", "planning"),
    # Suppliers can apply to join an established or modified dynamic market: an opportunity.
    "UK14": ("dynamic market notice - establishment", "tender"),
    "UK15": ("dynamic market notice - modification", "tender"),
    "UK16": ("dynamic market notice - cessation", "cancelled"),
    # How promptly the buyer paid its invoices: about the buyer, not one procurement.
    "UK17": ("payments compliance notice", "contract"),
}

#: Standard forms of the old (EU-derived, PCR 2015) regime, still used on Find a Tender for
#: procurements begun before 24 Feb 2025 and on PCS and Sell2Wales. The stage is None where the
#: form serves several stages (a corrigendum, a light-touch notice): the release tag decides.
OLD_REGIME_FORMS: dict[str, tuple[str, str | None]] = {
    "F01": ("prior information notice", "planning"),
    "F02": ("contract notice", "tender"),
    "F03": ("contract award notice", "award"),
    "F04": ("periodic indicative notice (utilities)", "planning"),
    "F05": ("contract notice (utilities)", "tender"),
    "F06": ("contract award notice (utilities)", "award"),
    "F07": ("qualification system (utilities)", "tender"),
    "F12": ("design contest notice", "tender"),
    "F13": ("results of design contest", "award"),
    "F14": ("corrigendum", None),
    "F15": ("voluntary ex ante transparency notice", "award"),
    "F20": ("modification notice", "contract"),
    "F21": ("social and other specific services (public contracts)", None),
    "F22": ("social and other specific services (utilities)", None),
    "F23": ("social and other specific services (concessions)", None),
    "F24": ("concession notice", "tender"),
    "F25": ("concession award notice", "award"),
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


def normalise_notice_code(notice_type: str | None) -> str | None:
    """``"uk4"`` → ``"UK4"``, ``"F2"``/``"F02"`` → ``"F02"``; None for anything else."""
    if not notice_type or not isinstance(notice_type, str):
        return None
    code = notice_type.strip().upper().replace(" ", "")
    if code in UK_NOTICE_TYPES:
        return code
    if len(code) in (2, 3) and code[0] == "F" and code[1:].isdigit():
        code = f"F{int(code[1:]):02d}"
        return code if code in OLD_REGIME_FORMS else None
    return None


def stage_from_notice_type(notice_type: str | None) -> str | None:
    """``"UK4"`` → ``"tender"``, ``"F03"`` → ``"award"``; None when the code does not say."""
    code = normalise_notice_code(notice_type)
    if code is None:
        return None
    if code in UK_NOTICE_TYPES:
        return UK_NOTICE_TYPES[code][1]
    return OLD_REGIME_FORMS[code][1]


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
