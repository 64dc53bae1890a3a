"""What a notice *is*: one stable vocabulary of notice kinds for every feed and regime.

Since 24 February 2025 a procurement on Find a Tender is a sequence of typed
notices under one ``ocid`` (UK1 pipeline … UK17 payments compliance). About two
thirds of that traffic is award- and contract-stage history that a social
enterprise cannot bid for, while the notices it most needs are the early ones
(engagement, dynamic markets it can join). The stage alone (``planning``,
``tender``...) is too coarse to tell these apart, so every notice also gets a
``kind`` from the table below, with a plain-English name and the delivery an
enterprise gets by default:

* ``instant`` — worth interrupting someone for: a live tender, a market
  engagement they can take part in, a dynamic market they can join or that is
  about to open;
* ``digest`` — early sight, no action due yet (pipeline, planned procurement,
  a change to a dynamic market);
* ``follow_up`` — only to those already alerted about the same ``ocid`` (a
  cancelled procurement, a dynamic market that closed);
* ``never`` — stored for market intelligence, never sent to enterprises
  (awards, contracts, changes, terminations, payments).

Contracts Finder notices (OCDS tags plus the notice document's type) and
old-regime notices (PCR 2015 / TED standard forms, tags only on FTS) map onto
the same kinds, so downstream code never branches on the feed. The mapping and
its reasons are tabled in docs/feeds.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from feeds.stages import (
    normalise_notice_code,
    pick_stage,
    stage_from_tags,
)

Delivery = Literal["instant", "digest", "follow_up", "never"]
INSTANT: Final = "instant"
DIGEST: Final = "digest"
FOLLOW_UP: Final = "follow_up"
NEVER: Final = "never"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of notice: its id, what to call it, where it sits, who hears about it."""

    id: str
    name: str
    summary: str
    stage: str
    delivery: Delivery
    uk_codes: tuple[str, ...] = ()
    old_forms: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind(
            "pipeline",
            "Pipeline notice",
            "a contract the buyer expects to tender in the coming months",
            "planning",
            DIGEST,
            ("UK1",),
        ),
        Kind(
            "engagement",
            "Market engagement",
            "the buyer wants suppliers' views before it writes the tender",
            "planning",
            INSTANT,
            ("UK2",),
        ),
        Kind(
            "planned",
            "Planned procurement",
            "a specific tender is coming soon",
            "planning",
            DIGEST,
            ("UK3",),
            ("F01", "F04"),
        ),
        Kind(
            "tender",
            "Tender",
            "open for bids or requests to take part",
            "tender",
            INSTANT,
            ("UK4",),
            ("F02", "F05", "F12", "F24"),
        ),
        Kind(
            "dm_intention",
            "Dynamic market coming",
            "the buyer intends to set up a dynamic market suppliers can join",
            "planning",
            INSTANT,
            ("UK13",),
        ),
        Kind(
            "dm_established",
            "Dynamic market open to join",
            "a dynamic market is open: suppliers can apply to join at any time",
            "tender",
            INSTANT,
            ("UK14",),
            ("F07",),
        ),
        Kind(
            "dm_modified",
            "Dynamic market changed",
            "the rules or scope of a dynamic market have changed",
            "tender",
            DIGEST,
            ("UK15",),
        ),
        Kind(
            "dm_ceased",
            "Dynamic market closed",
            "a dynamic market has stopped taking part",
            "cancelled",
            FOLLOW_UP,
            ("UK16",),
        ),
        Kind(
            "direct_award",
            "Direct award",
            "the buyer intends to award without competition to a named supplier",
            "award",
            NEVER,
            ("UK5",),
            ("F15",),
        ),
        Kind(
            "award",
            "Contract award",
            "the buyer has chosen a supplier",
            "award",
            NEVER,
            ("UK6",),
            ("F03", "F06", "F13", "F25"),
        ),
        Kind(
            "contract",
            "Contract details",
            "the contract has been signed",
            "contract",
            NEVER,
            ("UK7",),
        ),
        Kind(
            "performance",
            "Contract performance",
            "how a supplier is performing against the contract's key measures",
            "contract",
            NEVER,
            ("UK9",),
        ),
        Kind(
            "change",
            "Contract change",
            "a signed contract has been changed (value, length or scope)",
            "contract",
            NEVER,
            ("UK10",),
            ("F20",),
        ),
        Kind(
            "termination",
            "Contract ended",
            "a contract has ended or been terminated",
            "contract",
            NEVER,
            ("UK11",),
        ),
        Kind(
            "cancelled",
            "Procurement cancelled",
            "the buyer has stopped this procurement and will not award it",
            "cancelled",
            FOLLOW_UP,
            ("UK12",),
        ),
        Kind(
            "payments",
            "Payments compliance",
            "how promptly the buyer pays its suppliers",
            "contract",
            NEVER,
            ("UK17",),
        ),
        Kind(
            "unknown",
            "Other notice",
            "a notice bestbot could not classify",
            "unknown",
            DIGEST,
        ),
    )
}
KIND_IDS: tuple[str, ...] = tuple(KINDS)

KIND_BY_CODE: dict[str, str] = {
    code: kind.id for kind in KINDS.values() for code in (*kind.uk_codes, *kind.old_forms)
}
#: Kinds an enterprise can act on (bid, respond, apply to join, or prepare for).
OPPORTUNITY_KINDS: frozenset[str] = frozenset(
    k.id for k in KINDS.values() if k.delivery in (INSTANT, DIGEST) and k.id != "unknown"
)
DYNAMIC_MARKET_KINDS: frozenset[str] = frozenset(
    {"dm_intention", "dm_established", "dm_modified", "dm_ceased"}
)

# Release tag -> kind, where the tag alone says it (planning tags are refined by hints).
_TAG_KIND: dict[str, str] = {
    "tender": "tender",
    "tenderamendment": "tender",
    "tenderupdate": "tender",
    "award": "award",
    "awardupdate": "award",
    "contract": "contract",
    "contractupdate": "contract",
    "contractamendment": "change",
    "implementation": "performance",
    "implementationupdate": "performance",
    "contracttermination": "termination",
    "tendercancellation": "cancelled",
    "awardcancellation": "cancelled",
}
_DEFAULT_KIND_OF_STAGE: dict[str, str] = {
    "planning": "planned",
    "tender": "tender",
    "award": "award",
    "contract": "contract",
    "cancelled": "cancelled",
    "unknown": "unknown",
}


@dataclass(frozen=True, slots=True)
class KindHints:
    """What a release says about a planning notice besides its tag.

    Contracts Finder has three planning notices under one tag: *Early
    engagement* (document type ``marketEngagementNotice``, an ``engagement``
    milestone), *Future opportunity* (``plannedProcurementNotice``, a future
    notice date) and plain planning. FTS gives a UK code instead.
    """

    document_types: frozenset[str] = frozenset()
    engagement_milestone: bool = False
    future_notice_date: bool = False


NO_HINTS = KindHints()


def kind_for_code(notice_type: str | None) -> str | None:
    """``"UK4"`` → ``"tender"``, ``"F15"`` → ``"direct_award"``; None if the code does not say."""
    code = normalise_notice_code(notice_type)
    return KIND_BY_CODE.get(code) if code else None


def _planning_kind(hints: KindHints) -> str:
    if hints.engagement_milestone or "marketEngagementNotice" in hints.document_types:
        return "engagement"
    if hints.future_notice_date or "plannedProcurementNotice" in hints.document_types:
        return "pipeline"
    return "planned"


def kind_from_tags(tags: Iterable[str], hints: KindHints = NO_HINTS) -> str | None:
    """The kind the first recognised tag gives (a cancellation tag anywhere wins)."""
    tags = list(tags)
    stage = stage_from_tags(tags)
    if stage is None:
        return None
    if stage == "cancelled":
        return "cancelled"
    if stage == "planning":
        return _planning_kind(hints)
    for tag in tags:
        kind = _TAG_KIND.get(tag.strip().lower())
        if kind is not None:
            return kind
    return _DEFAULT_KIND_OF_STAGE[stage]


def pick_kind(
    *,
    tags: Iterable[str],
    notice_type: str | None,
    tender_status: str | None,
    hints: KindHints = NO_HINTS,
) -> str:
    """Combine the signals the same way :func:`feeds.stages.pick_stage` does.

    Cancellation (status or tag) > notice code (UK or old-regime form) > tag >
    ``"unknown"``, so that ``KINDS[kind].stage`` is always the notice's stage.
    A cancelled dynamic market stays ``dm_ceased``; anything else cancelled is
    ``cancelled``.
    """
    tags = list(tags)
    stage = pick_stage(tags=tags, notice_type=notice_type, tender_status=tender_status)
    coded = kind_for_code(notice_type)
    if stage == "cancelled":
        return coded if coded is not None and KINDS[coded].stage == "cancelled" else "cancelled"
    if coded is not None and KINDS[coded].stage == stage:
        return coded
    by_tag = kind_from_tags(tags, hints)
    if by_tag is not None and KINDS[by_tag].stage == stage:
        return by_tag
    return _DEFAULT_KIND_OF_STAGE.get(stage, "unknown")


def kind_of_stored(notice_type: str | None, stage: str) -> str:
    """The kind of a notice stored before kinds existed, from its notice type and stage.

    Stored dicts kept the UK code (or, for other feeds, the first tag) as
    ``notice_type``; planning hints were not kept, so a Contracts Finder
    planning notice reads back as ``planned``.
    """
    if not isinstance(notice_type, str):
        notice_type = None  # junk from a hand-written file: the stage alone decides
    tags = [notice_type] if notice_type else []
    kind = pick_kind(tags=tags, notice_type=notice_type, tender_status=None)
    if KINDS[kind].stage == stage:
        return kind
    return _DEFAULT_KIND_OF_STAGE.get(stage, "unknown")
