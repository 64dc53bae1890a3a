"""Matching a notice lot by lot, and the reservation filter.

A tender in lots is several contracts under one notice: "Adult social care" with a
£1.5m residential lot and a £120,000 day-support lot. Matched as a whole, its total
value hides the small lot from a profile asking for at most £200,000, and "suitable for
VCSEs" on one lot says nothing of the others. So each lot of a notice with two or more
lots is also matched as a notice of its own — a *lot view*: the notice's title, then a
description that opens with the lot's title and description and goes on with the
notice's, and the lot's CPV codes, places, value, suitability and reservation (the
notice's where the lot states none) — and the verdicts are folded back into one match per
profile and notice that says which lots fitted, best first.

The rules (:mod:`matchers.rules`) are not changed: a lot view is just a notice. Kept in
its own module so the rules and the index can change without touching lots.

The reservation filter (``Profile.reserved``) is applied here too, after the rules,
because it is about lots as much as notices: a tender with one lot reserved for
supported employment providers matches such a profile by that lot only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from feeds.notice import Lot, Notice
from matchers.profile import Profile
from matchers.rules import Match

__all__ = [
    "LOT_MARK",
    "LotMatch",
    "fold_lot_matches",
    "lot_view",
    "lot_views",
    "match_lots",
    "reserved_pass",
    "split_ocid",
    "tender_reserved",
]

#: Joins a notice's ocid and a lot id in a lot view's ocid. A unit separator: feeds never
#: let a control character into an ocid (:mod:`feeds.limits`), so it cannot collide.
LOT_MARK = "\x1flot:"
#: Notices with fewer lots than this are matched as a whole only (one lot *is* the notice).
MIN_LOTS = 2


@dataclass(frozen=True, slots=True)
class LotMatch:
    """A match of a whole notice, with the lots that fitted the profile (best first; empty
    when no lot fitted on its own or the notice has no lots)."""

    match: Match
    lots: tuple[str, ...] = ()


def split_ocid(ocid: str) -> tuple[str, str | None]:
    """``(notice ocid, lot id)`` of a lot view's ocid; ``(ocid, None)`` for a notice."""
    base, mark, lot = ocid.partition(LOT_MARK)
    return (base, lot) if mark else (ocid, None)


def _states_suitability(lot: Lot) -> bool:
    return lot.suitable_sme is not None or lot.suitable_vcse is not None


def lot_view(notice: Notice, lot: Lot) -> Notice:
    """The lot as a notice of its own (see the module docstring)."""
    # The lot's own words open the description: a lot title is a sub-heading, weaker
    # evidence than the notice's title (a one-word keyword there needs its CPV division, as
    # in any description), and the notice's text follows, so that its exclusions still veto
    # and its acronyms and context still read.
    opening = ". ".join(t for t in (lot.title, lot.description) if t)
    description = "\n".join(t for t in (opening, notice.description) if t)
    if any(_states_suitability(other) for other in notice.lots):
        # the notice's own flags are then the lots' (feeds.lots): only this lot's count
        sme, vcse = lot.suitable_sme, lot.suitable_vcse
    else:
        sme, vcse = notice.suitable_sme, notice.suitable_vcse
    return replace(
        notice,
        ocid=f"{notice.ocid}{LOT_MARK}{lot.id}",
        description=description,
        cpv=_lot_cpv(notice, lot),
        regions=lot.regions or notice.regions,
        value=lot.value or notice.value,
        suitable_sme=sme,
        suitable_vcse=vcse,
        reserved=tuple(dict.fromkeys((*tender_reserved(notice), *lot.reserved))),
        lots=(),
    )


def _lot_cpv(notice: Notice, lot: Lot) -> tuple[str, ...]:
    """The notice's main CPV code, then the lot's: the main code says what kind of contract
    the whole is (works, supplies, services: the rules' contract-type check reads it), so a
    lot never turns a works contract into a service one; the lot's codes still meet a
    profile's CPV codes."""
    if not notice.cpv:
        return lot.cpv
    main = notice.cpv[0]
    return (main, *(code for code in lot.cpv if code != main))


def lot_views(notices: Iterable[Notice]) -> list[Notice]:
    """Every notice, followed by a view of each of its lots when it has two or more."""
    out: list[Notice] = []
    for notice in notices:
        out.append(notice)
        if len(notice.lots) >= MIN_LOTS:
            out.extend(lot_view(notice, lot) for lot in notice.lots if _says_what(lot))
    return out


def _says_what(lot: Lot) -> bool:
    return bool(lot.title or lot.description or lot.value)


def tender_reserved(notice: Notice) -> tuple[str, ...]:
    """The reservations of the whole tender: the notice's, less those only a lot has."""
    by_lots = {code for lot in notice.lots for code in lot.reserved}
    everywhere = notice.lots and all(set(lot.reserved) >= by_lots for lot in notice.lots)
    return tuple(c for c in notice.reserved if c not in by_lots or everywhere)


def reserved_pass(profile: Profile, reserved: Sequence[str]) -> bool:
    """A profile asking for reserved contracts takes only those reserved for its codes."""
    return not profile.reserved or any(code in profile.reserved for code in reserved)


def fold_lot_matches(
    matches: Iterable[Match],
    notices: Mapping[str, Notice],
    profiles: Mapping[str, Profile],
) -> list[LotMatch]:
    """One :class:`LotMatch` per profile and notice from the verdicts on notices and their
    lot views: the whole notice's match when it has one (else the best lot's, under the
    notice's ocid), the lots that fitted, and the reservation filter applied to each."""
    grouped: dict[tuple[str, str], list[tuple[str | None, Match]]] = {}
    for match in matches:
        base, lot = split_ocid(match.notice_ocid)
        grouped.setdefault((match.profile_id, base), []).append((lot, match))
    out: list[LotMatch] = []
    for (profile_id, ocid), found in grouped.items():
        notice, profile = notices.get(ocid), profiles.get(profile_id)
        if notice is None or profile is None:
            continue
        folded = _fold(notice, profile, found)
        if folded is not None:
            out.append(folded)
    return out


def _fold(
    notice: Notice, profile: Profile, found: list[tuple[str | None, Match]]
) -> LotMatch | None:
    order = {lot.id: i for i, lot in enumerate(notice.lots)}
    lots_of = {lot.id: lot for lot in notice.lots}
    whole = next((m for lot, m in found if lot is None), None)
    if whole is not None and not reserved_pass(profile, _whole_reserved(notice, profile)):
        whole = None
    fitting = sorted(
        (
            (lot, m)
            for lot, m in found
            if lot is not None
            and lot in lots_of
            and reserved_pass(profile, (*tender_reserved(notice), *lots_of[lot].reserved))
        ),
        key=lambda item: (-item[1].score, order.get(item[0] or "", 0)),
    )
    lot_ids = tuple(lot for lot, _ in fitting if lot is not None)
    if whole is not None:
        return LotMatch(whole, lot_ids)
    if not fitting:
        return None
    return LotMatch(replace(fitting[0][1], notice_ocid=notice.ocid), lot_ids)


def _whole_reserved(notice: Notice, profile: Profile) -> tuple[str, ...]:
    """What the whole notice counts as reserved for: the tender's own reservations, or (for
    a notice not matched lot by lot) whatever any lot is reserved for."""
    if len(notice.lots) >= MIN_LOTS:
        return tender_reserved(notice)
    return notice.reserved


def match_lots(
    match: Callable[[list[Notice]], list[Match]],
    notices: Sequence[Notice],
    profiles: Iterable[Profile],
) -> list[LotMatch]:
    """Match ``notices`` and their lots with ``match`` (a built matcher's ``match``) and fold
    the verdicts (:func:`fold_lot_matches`)."""
    by_ocid = {n.ocid: n for n in notices}
    by_id = {p.id: p for p in profiles}
    return fold_lot_matches(match(lot_views(notices)), by_ocid, by_id)
