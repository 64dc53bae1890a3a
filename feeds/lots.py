"""Lots and reservations: ``tender.lots[]`` → :class:`feeds.notice.Lot`, reserved participation.

A big tender is often several contracts in one ("Lot 3: minor works in
Conwy"), and a social enterprise may fit one lot only: the lot has its own
value, its own SME/VCSE suitability and sometimes its own reservation. What a
lot buys is not on the lot itself but on the tender items that name it in
``relatedLot``; a tender with a single lot (Find a Tender always has at least
one) often leaves ``relatedLot`` out, and then every item is that lot's.

Reserved participation (UK profile and OCDS ``otherRequirements`` extension):
``reservedParticipation`` codes ``shelteredWorkshop`` (supported employment
providers), ``publicServiceMissionOrganization`` (public service mutuals),
the UK's ``smeVcse`` (below-threshold contracts reserved to SMEs and VCSEs),
and ``reservedParticipationLocation`` (below-threshold contracts reserved to
suppliers in one county or London borough). They become the codes of
:data:`feeds.notice.RESERVATIONS`; a code we do not know is kept as published
so that nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from feeds.clean import clean_description, clean_title
from feeds.fields import (
    as_dict,
    as_list,
    cpv_of_classifications,
    dicts,
    item_classifications,
    period,
    text,
    to_bool,
    value_of,
)
from feeds.notice import Lot
from feeds.regions import dedupe, delivery_regions

_RESERVATION_CODES: dict[str, str] = {
    "shelteredworkshop": "supported_employment",
    "supportedemployment": "supported_employment",
    "supportedemploymentprovider": "supported_employment",
    "publicservicemissionorganization": "public_service_mutual",
    "publicservicemissionorganisation": "public_service_mutual",
    "publicservicemission": "public_service_mutual",
    "publicservicemutual": "public_service_mutual",
    "smevcse": "sme_vcse",
}


def _reservation_code(code: str) -> str:
    key = code.replace("_", "").replace("-", "").replace(" ", "").lower()
    return _RESERVATION_CODES.get(key, code)


def reserved_codes(block: Mapping[str, Any]) -> tuple[str, ...]:
    """Reservation codes of a tender or a lot (``otherRequirements``, or the block itself)."""
    codes: list[str] = []
    for holder in (as_dict(block.get("otherRequirements")), block):
        listed = holder.get("reservedParticipation")
        for code in [listed] if isinstance(listed, str) else as_list(listed):
            if isinstance(code, str) and code.strip():
                codes.append(_reservation_code(code.strip()))
        if as_dict(holder.get("reservedParticipationLocation")):
            codes.append("local")
    return dedupe(codes)


def notice_reserved(tender: Mapping[str, Any], lots: tuple[Lot, ...]) -> tuple[str, ...]:
    """The tender's reservations and every lot's: reserved in whole *or in part*.

    The notice-level answer is a union so that "show me reserved contracts"
    finds a tender with one reserved lot; which lot it is stays on the lot.
    """
    codes = list(reserved_codes(tender))
    for lot in lots:
        codes.extend(lot.reserved)
    return dedupe(codes)


def _items_by_lot(
    items: list[dict[str, Any]], lot_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Items grouped by ``relatedLot``; with one lot, unlinked items belong to it."""
    grouped: dict[str, list[dict[str, Any]]] = {lot_id: [] for lot_id in lot_ids}
    for item in items:
        related = text(item.get("relatedLot"))
        if related is None and len(lot_ids) == 1:
            related = lot_ids[0]
        if related in grouped:
            grouped[related].append(item)
    return grouped


@lru_cache(maxsize=256)
def _clean_lot_description(raw: str) -> str:
    # Sell2Wales and PCS repeat the whole tender description in every lot (up to 83 of them).
    return clean_description(raw)


def _lot_description(value: Any) -> str:
    return _clean_lot_description(value) if isinstance(value, str) else clean_description(value)


def _lot(block: Mapping[str, Any], lot_id: str, items: list[dict[str, Any]]) -> Lot:
    suitability = as_dict(block.get("suitability"))
    start, end = period(block.get("contractPeriod"))
    return Lot(
        id=lot_id,
        title=clean_title(block.get("title")),
        description=_lot_description(block.get("description")),
        status=text(block.get("status")),
        cpv=dedupe(
            [code for item in items for code in cpv_of_classifications(item_classifications(item))]
        ),
        regions=dedupe(delivery_regions(items)),
        value=value_of(block.get("value")),
        suitable_sme=to_bool(suitability.get("sme")),
        suitable_vcse=to_bool(suitability.get("vcse")),
        reserved=reserved_codes(block),
        contract_start=start,
        contract_end=end,
    )


def _says_something(lot: Lot) -> bool:
    """More than an id and a status: award notices repeat the tender's lots as bare stubs."""
    return lot != Lot(id=lot.id, status=lot.status)


def parse_lots(tender: Mapping[str, Any]) -> tuple[Lot, ...]:
    """The lots of ``tender.lots[]`` that say something, in order.

    A lot without an id is numbered by its position.
    """
    blocks = dicts(tender.get("lots"))
    ids = [text(block.get("id")) or str(position) for position, block in enumerate(blocks, 1)]
    grouped = _items_by_lot(dicts(tender.get("items")), ids)
    pairs = zip(blocks, ids, strict=True)
    lots = (_lot(block, lot_id, grouped[lot_id]) for block, lot_id in pairs)
    return tuple(lot for lot in lots if _says_something(lot))
