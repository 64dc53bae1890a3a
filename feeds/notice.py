"""The normalised notice: the one shape every feed adapter produces.

Everything downstream (storage, matching, alerts) sees only this type, so a new
feed is just a new adapter. It is a frozen dataclass of plain values (tuples,
not lists) so that it can cross threads (matching runs off the event loop) and
be hashed for versions.

The first seventeen fields are the stable ``feed parse`` keys (DESIGN.md).
The fields after them say what the Procurement Act 2023 made visible: the
notice's *kind*, the extra dates (expression of interest, engagement close,
expected tender date, contract period), lots with their own value and
suitability, reservation for supported employment providers or public
service mutuals, and the awards with their suppliers. They are added keys:
old stored dicts without them still load, and a notice whose new fields are
empty hashes exactly as it did before they existed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from feeds.kinds import FOLLOW_UP, KINDS, NEVER, kind_of_stored

Stage = Literal["planning", "tender", "award", "contract", "cancelled", "unknown"]
STAGES: tuple[str, ...] = ("planning", "tender", "award", "contract", "cancelled", "unknown")

#: Keys of the stable ``feed parse`` output (DESIGN.md); never renamed or removed.
STABLE_KEYS: tuple[str, ...] = (
    "source",
    "ocid",
    "release_id",
    "notice_type",
    "stage",
    "title",
    "description",
    "buyer",
    "cpv",
    "regions",
    "value",
    "deadline",
    "published",
    "updated",
    "suitable_sme",
    "suitable_vcse",
    "url",
)
#: Keys added for the Procurement Act 2023; empty ones are left out of the content hash.
ADDED_KEYS: tuple[str, ...] = ("kind", "dates", "lots", "reserved", "awards", "amendments")


@dataclass(frozen=True, slots=True)
class Value:
    """A contract value: ``amount`` is the upper/estimated figure, ``min`` the lower bound."""

    amount: float | None
    min: float | None
    currency: str | None = "GBP"

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: Any) -> Value | None:
        if data is None:
            return None
        block = _obj(data, "value")
        return cls(
            amount=_opt_number(block.get("amount")),
            min=_opt_number(block.get("min")),
            currency=_opt_str(block.get("currency")),
        )


@dataclass(frozen=True, slots=True)
class NoticeDates:
    """The dates a notice states besides its tender deadline (``Notice.deadline``).

    ``expression_of_interest``: first-stage deadline of a two-stage procedure
    (request to participate), which then has no tender deadline at all;
    ``engagement_end``: when a market engagement (UK2, CF early engagement)
    closes; ``future_notice``: when the buyer expects to publish the next
    notice, usually the tender (UK1, UK3, CF future opportunity);
    ``enquiry_end``: last day for clarification questions (never a submission
    deadline); ``contract_start``/``contract_end``: the contract period.
    """

    expression_of_interest: datetime | None = None
    engagement_end: datetime | None = None
    future_notice: datetime | None = None
    enquiry_end: datetime | None = None
    contract_start: datetime | None = None
    contract_end: datetime | None = None

    def to_json_dict(self) -> dict[str, str | None]:
        return {name: _iso(getattr(self, name)) for name in _DATE_NAMES}

    @classmethod
    def from_json_dict(cls, data: Any) -> NoticeDates:
        if data is None:
            return cls()
        block = _obj(data, "dates")
        return cls(**{name: _parse_dt(block.get(name)) for name in _DATE_NAMES})

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in _DATE_NAMES)


_DATE_NAMES: tuple[str, ...] = (
    "expression_of_interest",
    "engagement_end",
    "future_notice",
    "enquiry_end",
    "contract_start",
    "contract_end",
)


@dataclass(frozen=True, slots=True)
class Lot:
    """One lot of a tender: what it buys, its own value, suitability and reservation.

    ``cpv`` and ``regions`` come from the tender items whose ``relatedLot`` is
    this lot. ``reserved`` uses the codes of :data:`RESERVATIONS`.
    """

    id: str
    title: str = ""
    description: str = ""
    status: str | None = None
    cpv: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    value: Value | None = None
    suitable_sme: bool | None = None
    suitable_vcse: bool | None = None
    reserved: tuple[str, ...] = ()
    contract_start: datetime | None = None
    contract_end: datetime | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "cpv": list(self.cpv),
            "regions": list(self.regions),
            "value": _value_json(self.value),
            "suitable_sme": self.suitable_sme,
            "suitable_vcse": self.suitable_vcse,
            "reserved": list(self.reserved),
            "contract_start": _iso(self.contract_start),
            "contract_end": _iso(self.contract_end),
        }

    @classmethod
    def from_json_dict(cls, data: Any) -> Lot:
        block = _obj(data, "lot")
        return cls(
            id=_req_str(block, "id"),
            title=_opt_str(block.get("title")) or "",
            description=_opt_str(block.get("description")) or "",
            status=_opt_str(block.get("status")),
            cpv=_strs(block.get("cpv"), "cpv"),
            regions=_strs(block.get("regions"), "regions"),
            value=Value.from_json_dict(block.get("value")),
            suitable_sme=_opt_bool(block.get("suitable_sme")),
            suitable_vcse=_opt_bool(block.get("suitable_vcse")),
            reserved=_strs(block.get("reserved"), "reserved"),
            contract_start=_parse_dt(block.get("contract_start")),
            contract_end=_parse_dt(block.get("contract_end")),
        )


@dataclass(frozen=True, slots=True)
class Supplier:
    """A supplier named on an award, with what the notice says about what kind of body it is.

    ``scale`` is the publisher's code (``sme``, ``large``, ``micro``...); ``sme``
    is the yes/no reading of it (or of Contracts Finder's own ``sme`` flag).
    ``vcse``, ``supported_employment`` and ``public_service_mutual`` are the UK
    profile's party flags (``vcse``, ``shelteredWorkshop``,
    ``publicServiceMissionOrganization``; CF's ``vco``). None = not stated.
    """

    name: str
    id: str | None = None
    scale: str | None = None
    sme: bool | None = None
    vcse: bool | None = None
    supported_employment: bool | None = None
    public_service_mutual: bool | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: Any) -> Supplier:
        block = _obj(data, "supplier")
        return cls(
            name=_req_str(block, "name"),
            id=_opt_str(block.get("id")),
            scale=_opt_str(block.get("scale")),
            sme=_opt_bool(block.get("sme")),
            vcse=_opt_bool(block.get("vcse")),
            supported_employment=_opt_bool(block.get("supported_employment")),
            public_service_mutual=_opt_bool(block.get("public_service_mutual")),
        )


@dataclass(frozen=True, slots=True)
class Award:
    """One award (or, for a dynamic market, one admitted supplier) and its contract.

    ``date`` is the award decision; ``signed`` the contract signature (UK7).
    ``contract_*`` is the contract period (the signed contract's when given,
    else the award's); ``contract_max_end`` the latest end with every extension.
    """

    id: str
    title: str = ""
    status: str | None = None
    date: datetime | None = None
    value: Value | None = None
    suppliers: tuple[Supplier, ...] = ()
    lots: tuple[str, ...] = ()
    contract_start: datetime | None = None
    contract_end: datetime | None = None
    contract_max_end: datetime | None = None
    signed: datetime | None = None
    standstill_end: datetime | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "date": _iso(self.date),
            "value": _value_json(self.value),
            "suppliers": [s.to_json_dict() for s in self.suppliers],
            "lots": list(self.lots),
            "contract_start": _iso(self.contract_start),
            "contract_end": _iso(self.contract_end),
            "contract_max_end": _iso(self.contract_max_end),
            "signed": _iso(self.signed),
            "standstill_end": _iso(self.standstill_end),
        }

    @classmethod
    def from_json_dict(cls, data: Any) -> Award:
        block = _obj(data, "award")
        return cls(
            id=_req_str(block, "id"),
            title=_opt_str(block.get("title")) or "",
            status=_opt_str(block.get("status")),
            date=_parse_dt(block.get("date")),
            value=Value.from_json_dict(block.get("value")),
            suppliers=tuple(Supplier.from_json_dict(s) for s in _seq(block.get("suppliers"))),
            lots=_strs(block.get("lots"), "lots"),
            contract_start=_parse_dt(block.get("contract_start")),
            contract_end=_parse_dt(block.get("contract_end")),
            contract_max_end=_parse_dt(block.get("contract_max_end")),
            signed=_parse_dt(block.get("signed")),
            standstill_end=_parse_dt(block.get("standstill_end")),
        )


@dataclass(frozen=True, slots=True)
class Amendment:
    """A change to a signed contract (UK10), with the new end date and value when stated."""

    id: str | None = None
    contract_id: str | None = None
    description: str = ""
    date: datetime | None = None
    contract_end: datetime | None = None
    value: Value | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contract_id": self.contract_id,
            "description": self.description,
            "date": _iso(self.date),
            "contract_end": _iso(self.contract_end),
            "value": _value_json(self.value),
        }

    @classmethod
    def from_json_dict(cls, data: Any) -> Amendment:
        block = _obj(data, "amendment")
        return cls(
            id=_opt_str(block.get("id")),
            contract_id=_opt_str(block.get("contract_id")),
            description=_opt_str(block.get("description")) or "",
            date=_parse_dt(block.get("date")),
            contract_end=_parse_dt(block.get("contract_end")),
            value=Value.from_json_dict(block.get("value")),
        )


#: Reservation codes (``Notice.reserved``, ``Lot.reserved``) and what they mean.
RESERVATIONS: dict[str, str] = {
    "supported_employment": "reserved for supported employment providers",
    "public_service_mutual": "reserved for public service mutuals",
    "sme_vcse": "reserved for SMEs and VCSEs",
    "local": "reserved for suppliers in one county or London borough",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """One release of one procurement, cleaned and normalised.

    ``source`` is the feed kind that produced it (``find_a_tender``,
    ``contracts_finder``, or another OCDS publisher's prefix), ``ocid`` the OCDS
    procurement id that stays the same across amendments. ``kind`` is one of
    :data:`feeds.kinds.KINDS`; left empty, it is derived from ``notice_type``
    and ``stage`` (that is how notices stored before kinds existed read back).
    """

    source: str
    ocid: str
    release_id: str
    notice_type: str | None
    stage: str
    title: str
    description: str
    buyer: str | None
    cpv: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    value: Value | None = None
    deadline: datetime | None = None
    published: datetime | None = None
    updated: datetime | None = None
    suitable_sme: bool | None = None
    suitable_vcse: bool | None = None
    url: str | None = None
    kind: str = ""
    dates: NoticeDates = field(default_factory=NoticeDates)
    lots: tuple[Lot, ...] = ()
    reserved: tuple[str, ...] = ()
    awards: tuple[Award, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    # Not part of the stable ``feed parse`` output; used for de-duplication across feeds.
    buyer_postcode: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            object.__setattr__(self, "kind", kind_of_stored(self.notice_type, self.stage))

    def to_json_dict(self) -> dict[str, Any]:
        """The stable ``feed parse`` representation (keys fixed by DESIGN.md), plus added keys."""
        return {
            "source": self.source,
            "ocid": self.ocid,
            "release_id": self.release_id,
            "notice_type": self.notice_type,
            "stage": self.stage,
            "title": self.title,
            "description": self.description,
            "buyer": self.buyer,
            "cpv": list(self.cpv),
            "regions": list(self.regions),
            "value": _value_json(self.value),
            "deadline": _iso(self.deadline),
            "published": _iso(self.published),
            "updated": _iso(self.updated),
            "suitable_sme": self.suitable_sme,
            "suitable_vcse": self.suitable_vcse,
            "url": self.url,
            "kind": self.kind,
            "dates": self.dates.to_json_dict(),
            "lots": [lot.to_json_dict() for lot in self.lots],
            "reserved": list(self.reserved),
            "awards": [award.to_json_dict() for award in self.awards],
            "amendments": [a.to_json_dict() for a in self.amendments],
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Notice:
        """Inverse of :meth:`to_json_dict` (used by ``bestbot match`` and storage).

        Dicts stored before the added keys existed load with those fields
        empty and ``kind`` derived. Malformed input raises ``KeyError``,
        ``TypeError`` or ``ValueError`` (callers turn those into one line).
        """
        return cls(
            source=str(data["source"]),
            ocid=str(data["ocid"]),
            release_id=str(data.get("release_id") or data["ocid"]),
            notice_type=data.get("notice_type"),
            stage=str(data.get("stage") or "unknown"),
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            buyer=data.get("buyer"),
            cpv=tuple(str(c) for c in data.get("cpv") or ()),
            regions=tuple(str(r) for r in data.get("regions") or ()),
            value=Value.from_json_dict(data.get("value"))
            if isinstance(data.get("value"), dict)
            else None,
            deadline=_parse_dt(data.get("deadline")),
            published=_parse_dt(data.get("published")),
            updated=_parse_dt(data.get("updated")),
            suitable_sme=data.get("suitable_sme"),
            suitable_vcse=data.get("suitable_vcse"),
            url=data.get("url"),
            kind=_opt_str(data.get("kind")) or "",
            dates=NoticeDates.from_json_dict(data.get("dates")),
            lots=tuple(Lot.from_json_dict(lot) for lot in _seq(data.get("lots"))),
            reserved=_strs(data.get("reserved"), "reserved"),
            awards=tuple(Award.from_json_dict(a) for a in _seq(data.get("awards"))),
            amendments=tuple(Amendment.from_json_dict(a) for a in _seq(data.get("amendments"))),
        )

    def content_hash(self) -> str:
        """Hash of everything a subscriber could see, excluding timestamps of publication.

        Two releases with the same hash are the same version: re-publishing an
        unchanged notice must not create a new version or a new alert. Added
        keys count only when they hold something, so a notice without lots,
        dates, awards... hashes exactly as it did before those keys existed;
        ``kind`` never counts, because it is derived from the release: a
        better classifier in a newer bestbot must not make every stored
        notice look changed.
        """
        payload = self.to_json_dict()
        for volatile in ("release_id", "published", "updated", "kind"):
            payload.pop(volatile, None)
        dates = {name: at for name, at in payload.pop("dates").items() if at is not None}
        if dates:
            payload["dates"] = dates
        for key in ("lots", "reserved", "awards", "amendments"):
            if not payload[key]:
                del payload[key]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


# Which deadlines a supplier must meet, by kind. A UK3's tender period is only the
# *expected* deadline of a tender not yet published, and a UK13 has none by design.
_TENDER_DEADLINES = ("expression_of_interest", "deadline")
_DEADLINES_BY_KIND: dict[str, tuple[str, ...]] = {
    "engagement": ("engagement_end",),
    "tender": _TENDER_DEADLINES,
    "dm_established": _TENDER_DEADLINES,
    "dm_modified": _TENDER_DEADLINES,
    "unknown": _TENDER_DEADLINES,
}


def applicable_deadlines(notice: Notice) -> dict[str, datetime]:
    """The deadlines a supplier acting on this notice must meet, by name (may be empty)."""
    found: dict[str, datetime] = {}
    for name in _DEADLINES_BY_KIND.get(notice.kind, ()):
        at = notice.deadline if name == "deadline" else getattr(notice.dates, name)
        if at is not None:
            found[name] = at
    return found


def first_deadline(notice: Notice) -> datetime | None:
    """Whichever applicable deadline comes first, or None (reminders, closing soon, still open).

    For a two-stage tender the expression-of-interest deadline comes before
    the tender deadline, and a supplier that misses it cannot take part at
    all; for a market engagement it is the engagement close date.
    """
    deadlines = applicable_deadlines(notice)
    return min(deadlines.values()) if deadlines else None


def still_open(notice: Notice, now: datetime) -> bool:
    """Can a supplier still act on this notice at ``now`` (timezone-aware)?

    Never for history (awards, contracts...) or follow-ups (cancellations);
    otherwise until :func:`first_deadline`, or always when there is none (a
    pipeline notice, a dynamic market): one alert too many beats a missed one.
    """
    if KINDS[notice.kind].delivery in (NEVER, FOLLOW_UP):
        return False
    deadline = first_deadline(notice)
    return deadline is None or deadline > now


# ----------------------------------------------------------------- JSON helpers
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: Any) -> datetime | None:
    """ISO 8601 text → aware datetime (no offset means UTC, as in the feeds)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _value_json(value: Value | None) -> dict[str, Any] | None:
    return value.to_json_dict() if value is not None else None


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _seq(value: Any) -> list[Any] | tuple[Any, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _strs(value: Any, what: str) -> tuple[str, ...]:
    items = _seq(value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"{what}: expected a list of strings")
    return tuple(items)


def _req_str(block: dict[str, Any], key: str) -> str:
    value = block[key]
    if not isinstance(value, str):
        raise TypeError(f"{key}: expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _opt_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"expected true/false, got {type(value).__name__}")


def _opt_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value
