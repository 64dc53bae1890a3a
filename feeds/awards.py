"""Awards, suppliers and contract changes, for market intelligence.

Who won what, for how much, until when, and whether the winner was an SME or a
VCSE: the raw material of "who wins social care contracts in Nottinghamshire"
and of "this contract ends in 2028, get ready". Never alerted to enterprises
(see :mod:`feeds.kinds`), so these rules favour keeping what is stated over
guessing what is not.

Shapes read:

* ``awards[]``: ``id``, ``title``, ``status``, ``date``, ``value`` (net, else
  gross), ``suppliers[]`` (references into ``parties``), ``relatedLots``,
  ``contractPeriod`` (with ``maxExtentDate``), ``standstillPeriod``.
* ``contracts[]`` (UK7 contract details, UK10 change, UK11 termination):
  linked to their award by ``awardID``; the signed contract's ``value``,
  ``period``, ``status`` and ``dateSigned`` win over the award's. A contract
  with no award in the release becomes an award of its own.
* Supplier flags: ``parties[].details.scale`` (``sme``/``large``/``micro``...),
  ``.vcse``, ``.shelteredWorkshop``, ``.publicServiceMissionOrganization``;
  Contracts Finder's old shape puts ``sme``/``vco`` on the supplier itself.
* Changes (UK10): ``contracts[].amendments[]`` and the UK profile's
  ``proposedAmendments[]`` (a change announced before it is signed), each with
  the amended contract's ``period`` and total ``value`` when stated; OCDS 1.1
  also allows ``awards[].amendments[]``.

For a dynamic market notice (UK14/UK15) the "awards" are the suppliers
admitted to the market, usually without values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from feeds.clean import clean_description, clean_title
from feeds.fields import as_dict, dicts, parse_datetime, period, text, texts, to_bool, value_of
from feeds.notice import Amendment, Award, Supplier

_SME_SCALES = frozenset({"sme", "micro", "small", "medium", "selfemployed"})
_LARGE_SCALES = frozenset({"large"})


def _is_sme(scale: str | None) -> bool | None:
    if scale is None:
        return None
    key = scale.replace("-", "").replace("_", "").replace(" ", "").lower()
    if key in _SME_SCALES:
        return True
    if key in _LARGE_SCALES:
        return False
    return None


def _first_bool(*values: Any) -> bool | None:
    for value in values:
        flag = to_bool(value)
        if flag is not None:
            return flag
    return None


@lru_cache(maxsize=4096)
def _clean_name(raw: str) -> str:
    # The same suppliers win again and again (frameworks list dozens per award).
    return clean_title(raw)


def _name(value: Any) -> str:
    return _clean_name(value) if isinstance(value, str) else clean_title(value)


def supplier(reference: Mapping[str, Any], party: Mapping[str, Any]) -> Supplier | None:
    """A supplier from its award reference and its ``parties`` entry; None without a name."""
    name = _name(reference.get("name")) or _name(party.get("name"))
    if not name:
        return None
    details = as_dict(party.get("details"))
    scale = text(details.get("scale")) or text(reference.get("scale"))
    return Supplier(
        name=name,
        id=text(reference.get("id")) or text(party.get("id")),
        scale=scale,
        sme=_first_bool(_is_sme(scale), reference.get("sme"), details.get("sme")),
        vcse=_first_bool(
            details.get("vcse"), reference.get("vcse"), reference.get("vco"), details.get("vco")
        ),
        supported_employment=to_bool(details.get("shelteredWorkshop")),
        public_service_mutual=to_bool(details.get("publicServiceMissionOrganization")),
    )


def _parties_by_id(release: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        party_id: party
        for party in dicts(release.get("parties"))
        if (party_id := text(party.get("id")))
    }


def _suppliers(
    references: list[dict[str, Any]], parties: Mapping[str, dict[str, Any]]
) -> tuple[Supplier, ...]:
    found: dict[Supplier, None] = {}  # first-seen order, a supplier named twice counts once
    for reference in references:
        reference_id = text(reference.get("id"))
        party = parties.get(reference_id, {}) if reference_id else {}
        entry = supplier(reference, party)
        if entry is not None:
            found.setdefault(entry)
    return tuple(found)


def _role_suppliers(release: Mapping[str, Any]) -> tuple[Supplier, ...]:
    """Parties with the ``supplier`` role, for contracts that came without their award."""
    found: list[Supplier] = []
    for party in dicts(release.get("parties")):
        roles = {role.lower() for role in texts(party.get("roles"))}
        if "supplier" in roles and (entry := supplier({}, party)) is not None:
            found.append(entry)
    return tuple(found)


def _contract_period(block: Mapping[str, Any], key: str) -> tuple[datetime | None, ...]:
    span = as_dict(block.get(key))
    start, end = period(span)
    return start, end, parse_datetime(span.get("maxExtentDate"))


def _award(
    block: Mapping[str, Any],
    award_id: str,
    suppliers: tuple[Supplier, ...],
    contract: Mapping[str, Any],
) -> Award:
    award_start, award_end, award_max = _contract_period(block, "contractPeriod")
    signed_start, signed_end, signed_max = _contract_period(contract, "period")
    return Award(
        id=award_id,
        title=clean_title(block.get("title")) or clean_title(contract.get("title")),
        status=text(contract.get("status")) or text(block.get("status")),
        date=parse_datetime(block.get("date")),
        value=value_of(contract.get("value")) or value_of(block.get("value")),
        suppliers=suppliers,
        lots=texts(block.get("relatedLots")),
        contract_start=signed_start or award_start,
        contract_end=signed_end or award_end,
        contract_max_end=signed_max or award_max,
        signed=parse_datetime(contract.get("dateSigned")),
        standstill_end=period(block.get("standstillPeriod"))[1],
    )


def parse_awards(release: Mapping[str, Any]) -> tuple[Award, ...]:
    """Every award of the release, with its signed contract merged in, then orphan contracts."""
    parties = _parties_by_id(release)
    contracts = dicts(release.get("contracts"))
    by_award: dict[str, dict[str, Any]] = {}
    for contract in contracts:
        award_id = text(contract.get("awardID"))
        if award_id is not None:
            by_award.setdefault(award_id, contract)
    awards: list[Award] = []
    used: set[int] = set()
    for position, block in enumerate(dicts(release.get("awards")), 1):
        award_id = text(block.get("id")) or str(position)
        contract = by_award.get(award_id, {})
        if contract:
            used.add(id(contract))
        suppliers = _suppliers(dicts(block.get("suppliers")), parties)
        awards.append(_award(block, award_id, suppliers, contract))
    orphans = [contract for contract in contracts if id(contract) not in used]
    role_suppliers = _role_suppliers(release) if orphans and not awards else ()
    for position, contract in enumerate(orphans, 1):
        award_id = text(contract.get("awardID")) or text(contract.get("id")) or f"c{position}"
        awards.append(_award({}, award_id, role_suppliers, contract))
    return tuple(awards)


def _amendment(block: Mapping[str, Any], contract_id: str | None) -> Amendment | None:
    description = clean_description(block.get("description")) or clean_description(
        block.get("rationale")
    )
    amended = Amendment(
        id=text(block.get("id")),
        contract_id=contract_id,
        description=description,
        date=parse_datetime(block.get("date")),
        contract_end=period(block.get("period"))[1],
        value=value_of(block.get("value")),
    )
    return None if amended == Amendment(id=amended.id, contract_id=contract_id) else amended


def parse_amendments(release: Mapping[str, Any]) -> tuple[Amendment, ...]:
    """Changes to signed contracts (and awards), in order; empty entries are skipped."""
    found: list[Amendment] = []
    holders = [(c, text(c.get("id"))) for c in dicts(release.get("contracts"))]
    holders += [(a, None) for a in dicts(release.get("awards"))]
    for holder, contract_id in holders:
        for key in ("amendments", "proposedAmendments"):
            for block in dicts(holder.get(key)):
                amendment = _amendment(block, contract_id)
                if amendment is not None:
                    found.append(amendment)
    return tuple(found)
