"""Which kinds of notice reach a subscriber, and how: the groups ``/types`` offers.

``feeds.kinds`` says what each kind *is* and the delivery an enterprise gets by default
(instant, digest only, follow-up only, never). A subscriber may switch whole groups of
kinds off — someone who cannot take part in market engagement, or who wants no early
sight — and the groups are what a person recognises ("Dynamic markets to join"), not the
seventeen UK codes. What a subscriber switched off is stored as kind ids
(``profile.kinds_off``), so a regrouping of the menu never changes anyone's choice.

A subscriber can only *narrow* the defaults: a kind delivered ``never`` (awards, contract
history) stays never, and a ``digest`` kind (early sight) goes only in the digest, even for
instant subscribers, because nothing is due yet. Follow-ups (a procurement cancelled, a
dynamic market closed, a tender out after its planned notice) always reach those alerted
to the procurement: they are about something already in their hands.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from feeds.kinds import DIGEST, KINDS, NEVER, OPPORTUNITY_KINDS, Delivery

__all__ = [
    "BY_KEY",
    "KIND_GROUPS",
    "KindGroup",
    "advanced",
    "clean_kinds_off",
    "delivery_for",
    "digest_period",
    "follow_up_of",
    "group_on",
    "is_withdrawn",
    "kinds_summary",
    "toggle_group",
]


@dataclass(frozen=True, slots=True)
class KindGroup:
    """One line of ``/types``: kinds a person thinks of as one thing."""

    key: str  # short, for callback data and web forms
    label: str
    kinds: tuple[str, ...]
    codes: str  # the UK notice codes, for those who know them
    what: str  # one line: what they get


KIND_GROUPS: tuple[KindGroup, ...] = (
    KindGroup(
        "tender",
        "Tenders",
        ("tender",),
        "UK4",
        "open for bids or requests to take part — as they appear",
    ),
    KindGroup(
        "engage",
        "Market engagement",
        ("engagement",),
        "UK2",
        "have your say before the tender is written — as they appear",
    ),
    KindGroup(
        "dm",
        "Dynamic markets to join",
        ("dm_intention", "dm_established"),
        "UK13, UK14",
        "apply to join, and be asked for work — as they appear",
    ),
    KindGroup(
        "early",
        "Pipeline and planned",
        ("pipeline", "planned"),
        "UK1, UK3",
        "tenders coming in the next months — in your digest",
    ),
    KindGroup(
        "dmchg",
        "Dynamic market changes",
        ("dm_modified",),
        "UK15",
        "a dynamic market's rules or scope changed — in your digest",
    ),
)
BY_KEY: dict[str, KindGroup] = {g.key: g for g in KIND_GROUPS}
#: Kinds a subscriber may switch off (every other kind keeps its default).
CHOOSABLE: frozenset[str] = frozenset(k for g in KIND_GROUPS for k in g.kinds)


def clean_kinds_off(kinds_off: Iterable[object]) -> list[str]:
    """Only kinds a subscriber may switch off, once each (a stored list may hold junk)."""
    out: list[str] = []
    for kind in kinds_off:
        if isinstance(kind, str) and kind in CHOOSABLE and kind not in out:
            out.append(kind)
    return out


def delivery_for(kind: str, kinds_off: Collection[str] = ()) -> Delivery:
    """How a new notice of ``kind`` reaches this subscriber: its default delivery, or
    ``never`` when they switched it off. Unknown kinds read as ``unknown``."""
    known = KINDS.get(kind) or KINDS["unknown"]
    if known.id in kinds_off and known.id in CHOOSABLE:
        return NEVER
    return known.delivery


def group_on(group: KindGroup, kinds_off: Collection[str]) -> bool:
    return not any(kind in kinds_off for kind in group.kinds)


def toggle_group(kinds_off: Iterable[str], key: str) -> list[str]:
    """``kinds_off`` with the group ``key`` switched the other way (``KeyError`` if unknown)."""
    group = BY_KEY[key]
    current = clean_kinds_off(kinds_off)
    if group_on(group, current):
        return [*current, *(k for k in group.kinds if k not in current)]
    return [k for k in current if k not in group.kinds]


def kinds_summary(kinds_off: Collection[str]) -> str:
    """One line for /settings: "all kinds" or what is on ("Tenders, Market engagement")."""
    on = [g.label for g in KIND_GROUPS if group_on(g, kinds_off)]
    if len(on) == len(KIND_GROUPS):
        return "every kind (tenders, engagement, dynamic markets, early sight)"
    if not on:
        return "none — only follow-ups to alerts you had"
    return ", ".join(on)


def digest_period(frequency: str, alert_kinds: Sequence[str]) -> str | None:
    """The digest a message of new alerts of these kinds makes: a daily or weekly
    subscriber's, or an instant subscriber's daily early sight (pipeline, planned: they go
    only in a digest); None for an instant alert or a group."""
    if frequency in ("daily", "weekly"):
        return frequency
    if alert_kinds and all(
        (KINDS.get(k) or KINDS["unknown"]).delivery == DIGEST for k in alert_kinds
    ):
        return "daily"
    return None


# --------------------------------------------------------------------------- follow-ups

FollowUp = Literal["out_now", "open_now", "cancelled", "closed", "changed"]
#: Kinds that announce a tender still to come: their tender is "out now" when it arrives.
EARLY_KINDS: frozenset[str] = frozenset({"pipeline", "planned", "engagement"})


def _pair(changes: Mapping[str, object], name: str) -> tuple[object, object] | None:
    pair = changes.get(name)
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return pair[0], pair[1]
    return None


def follow_up_of(changes: Mapping[str, object]) -> FollowUp:
    """What a later notice of an alerted procurement is, from the stored version's changes
    (``{"kind": [old, new], "stage": [...], ...}``): the tender out after its pipeline,
    planned or engagement notice (``out_now``, UK1/UK2/UK3 → UK4), a dynamic market now
    open (``open_now``, UK13 → UK14), the procurement cancelled (``cancelled``, UK12), a
    dynamic market closed (``closed``, UK16), or any other change (``changed``)."""
    kind = _pair(changes, "kind")
    if kind is not None:
        old, new = kind
        if new == "dm_ceased":
            return "closed"
        if new == "cancelled":
            return "cancelled"
        if new == "tender" and old in EARLY_KINDS:
            return "out_now"
        if new == "dm_established" and old == "dm_intention":
            return "open_now"
    stage = _pair(changes, "stage")
    if stage is not None and stage[1] == "cancelled":
        return "cancelled"
    return "changed"


def is_withdrawn(changes: Mapping[str, object]) -> bool:
    """Cancelled or closed: nothing left to act on."""
    return follow_up_of(changes) in ("cancelled", "closed")


def advanced(changes: Mapping[str, object]) -> bool:
    """Did the procurement become another kind of chance (a planned notice now a tender, a
    dynamic market now open)? Then it is matched again, like a new notice, for everyone not
    yet alerted to it: what was only early sight may now be for them."""
    kind = _pair(changes, "kind")
    return kind is not None and kind[0] != kind[1] and kind[1] in OPPORTUNITY_KINDS
