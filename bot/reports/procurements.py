"""One count per procurement: the releases of a notice folded into what it is now.

A procurement is published as many releases (a tender, its amendments, the award, the
signed contract, a change to it...) and often on both feeds. Counting releases would count
one contract five times, so every figure of the report counts :class:`Procurement` values:

* **the newest release per ocid** decides what the procurement is now (its kind, title,
  value, regions): a pipeline notice that became a tender is a tender;
* **awards are merged** across releases by award id, newer fields over older ones, because
  later releases often repeat an award without what an earlier one said (a UK7 drops the
  award's value for the signed contract's; a UK10 carries the contract without the award);
* **contract changes are kept from every release**, so an extension published after the
  award moves the forecast end date;
* **the same procurement on both feeds counts once**: the rule storage uses to link them
  (same buyer, same deadline to the minute, similar titles), so a report read from files
  agrees with one read from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from feeds.notice import Amendment, Award, Notice, Value
from feeds.order import notice_key
from storage.notices import DUPLICATE_TITLE_SIMILARITY, buyer_key

__all__ = ["Procurement", "adjusted_end", "fold", "procurements_from_notices"]

#: An award with one of these statuses never became a contract.
NO_CONTRACT = frozenset({"cancelled", "unsuccessful"})


@dataclass(frozen=True, slots=True)
class Procurement:
    """What the report knows of one procurement.

    ``opened`` is when its current kind was first published (the first tender notice, not
    a later amendment of it), so a tender counts in the window it appeared in.
    ``matched`` says whether at least one subscriber was alerted to it (None: not known,
    e.g. a report from files without profiles). ``notice_id`` is the stored notice's id.
    """

    notice: Notice
    awards: tuple[Award, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    opened: datetime | None = None
    matched: bool | None = None
    notice_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.notice.source}:{self.notice.ocid}"


def _overlay(old: Award, new: Award) -> Award:
    """``new`` over ``old``: what the newer release states wins, what it leaves out stays."""
    changes = {}
    for spec in fields(Award):
        value = getattr(new, spec.name)
        if value not in (None, "", ()):
            changes[spec.name] = value
    return replace(old, **changes)


def _merge_awards(releases: Sequence[Notice]) -> tuple[Award, ...]:
    merged: dict[str, Award] = {}
    for release in releases:
        for award in release.awards:
            earlier = merged.get(award.id)
            merged[award.id] = award if earlier is None else _overlay(earlier, award)
    return tuple(merged.values())


def _merge_amendments(releases: Sequence[Notice]) -> tuple[Amendment, ...]:
    seen: dict[tuple[object, ...], Amendment] = {}
    for release in releases:
        for change in release.amendments:
            key = (change.contract_id, change.id, change.date, change.contract_end)
            seen.setdefault(key, change)
    return tuple(seen.values())


def fold(
    releases: Iterable[Notice], *, matched: bool | None = None, notice_id: int | None = None
) -> Procurement:
    """The releases of one procurement (any order, one source and ocid) as one value."""
    ordered = sorted(releases, key=notice_key)
    if not ordered:
        raise ValueError("a procurement needs at least one release")
    newest = ordered[-1]
    same_kind = [r.published for r in ordered if r.kind == newest.kind and r.published]
    return Procurement(
        notice=newest,
        awards=_merge_awards(ordered),
        amendments=_merge_amendments(ordered),
        opened=min(same_kind) if same_kind else newest.published,
        matched=matched,
        notice_id=notice_id,
    )


def _same_procurement(a: Notice, b: Notice) -> bool:
    """Storage's cross-feed rule (:func:`storage.notices.find_duplicate`), on two notices."""
    if a.source == b.source or a.deadline is None or b.deadline is None:
        return False
    if buyer_key(a.buyer) is None or buyer_key(a.buyer) != buyer_key(b.buyer):
        return False
    if abs(a.deadline - b.deadline) > timedelta(minutes=1):
        return False
    score = fuzz.token_set_ratio(a.title.casefold(), b.title.casefold())
    return score >= DUPLICATE_TITLE_SIMILARITY


def procurements_from_notices(notices: Iterable[Notice]) -> list[Procurement]:
    """Releases read from files → procurements, one per (source, ocid), cross-feed
    duplicates dropped (the first one read is kept, as storage keeps the first stored)."""
    grouped: dict[tuple[str, str], list[Notice]] = {}
    for notice in notices:
        grouped.setdefault((notice.source, notice.ocid), []).append(notice)
    kept: list[Procurement] = []
    by_buyer: dict[str, list[Notice]] = {}
    for releases in grouped.values():
        procurement = fold(releases)
        newest = procurement.notice
        key = buyer_key(newest.buyer)
        candidates = by_buyer.get(key, []) if key is not None else []
        if any(_same_procurement(newest, other) for other in candidates):
            continue
        if key is not None:
            by_buyer.setdefault(key, []).append(newest)
        kept.append(procurement)
    return kept


def _applies(change: Amendment, award: Award, award_count: int) -> bool:
    if change.contract_id is None or award_count == 1:
        return True
    return change.contract_id == award.id


def adjusted_end(procurement: Procurement, award: Award) -> tuple[datetime | None, Value | None]:
    """The award's contract end and value once later contract changes are applied.

    The newest change (by date, else by order) that states an end date moves the end; one
    that states a value replaces the value (a change notice gives the amended total). A
    terminated contract ends when the termination says, whatever earlier changes said.
    """
    end, value = award.contract_end, award.value
    if award.status == "terminated":
        return end, value
    changes = [c for c in procurement.amendments if _applies(c, award, len(procurement.awards))]
    dated = sorted(
        enumerate(changes), key=lambda pair: (pair[1].date is not None, pair[1].date, pair[0])
    )
    for _, change in dated:
        if change.contract_end is not None:
            end = change.contract_end
        if change.value is not None and (change.value.amount or change.value.min) is not None:
            value = change.value
    return end, value
