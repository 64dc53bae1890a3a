"""OCDS releases → :class:`feeds.notice.Notice`, tolerant of every shape we have seen.

One function per field keeps each rule readable and testable; the rules and
their reasons are in docs/feeds.md. The shapes differ a lot between publishers
and years (Contracts Finder 2014 with ``xClassifications``, CF 2022+ with
``suitability``, Find a Tender 2026 with UK notice types in documents, PCS and
Sell2Wales with NUTS codes), and the CSV export gives every value as a string,
so the getters below accept the wrong type and fall back instead of failing.

Public API::

    iter_parse(package_or_releases, *, package_uri=None) -> Iterator[Notice | ParseProblem]
    parse_package(obj) -> ParseResult            # collects notices and problems
    parse_release(release, *, package_uri=None) -> Notice   # raises ReleaseError

A malformed release (not an object, no ``ocid``) becomes a
:class:`ParseProblem` carrying its position, ocid (if any) and reason; it never
stops the releases after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feeds.clean import clean_description, clean_title
from feeds.notice import Notice, Value
from feeds.regions import (
    dedupe,
    normalise_nuts_code,
    normalise_postcode,
    normalise_region_name,
    region_from_postcode,
)
from feeds.stages import pick_stage

FTS_NOTICE_URL = "https://www.find-tender.service.gov.uk/Notice/{id}"
CF_NOTICE_URL = "https://www.contractsfinder.service.gov.uk/Notice/{id}"

# ocid prefix (lower case) -> source name; first match wins.
SOURCES_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("ocds-h6vhtk-", "find_a_tender"),
    ("ocds-b5fd17", "contracts_finder"),  # also bluetail's rewritten "ocds-b5fd17raw-"
    ("ocds-r6ebe6-", "public_contracts_scotland"),
    ("ocds-kuma6s-", "sell2wales"),
)
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_CF_RELEASE_ID_RE = re.compile(rf"^({_UUID_RE.pattern})-\d+$", re.I)
_CF_PACKAGE_URI_RE = re.compile(rf"/Published/Notice/releases/({_UUID_RE.pattern})\.json", re.I)
_CPV_RE = re.compile(r"^(\d{8})(?:-\d)?$")
_NOTICE_DOC_TYPES = frozenset(
    {
        "tenderNotice",
        "contractNotice",
        "awardNotice",
        "plannedProcurementNotice",
        "marketEngagementNotice",
        "contractAwardNotice",
        "biddingDocuments_notice",
    }
)


class ReleaseError(ValueError):
    """One release cannot become a notice; the message is the reason."""


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A release that was skipped: where it was, which ocid (if known), and why."""

    index: int
    ocid: str | None
    reason: str
    release_id: str | None = None

    def __str__(self) -> str:
        return f"release {self.index} ({self.ocid or 'no ocid'}): {self.reason}"


@dataclass(slots=True)
class ParseResult:
    """Everything one input produced: notices in input order, and the skipped releases."""

    notices: list[Notice] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    items: list[Notice | ParseProblem] = field(default_factory=list)

    def add(self, item: Notice | ParseProblem) -> None:
        self.items.append(item)
        if isinstance(item, Notice):
            self.notices.append(item)
        else:
            self.problems.append(item)


# ----------------------------------------------------------------- tolerant getters
def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    return number if number == number and abs(number) != float("inf") else None


def to_bool(value: Any) -> bool | None:
    """JSON booleans, and the CSV export's ``"1"``/``"0"``/``"true"``/``"false"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "y", "1.0"):
            return True
        if text in ("0", "false", "no", "n", "0.0"):
            return False
    return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime, keeping the publisher's UTC offset.

    A time without an offset is taken as UTC (the feeds publish UTC or give an
    offset); unparseable values give None rather than failing the release.
    """
    text = _str(value)
    if text is None:
        return None
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# ----------------------------------------------------------------- field rules
def source_for_ocid(ocid: str) -> str:
    """The feed a release came from, by its ocid prefix (see docs/feeds.md)."""
    lowered = ocid.lower()
    for prefix, name in SOURCES_BY_PREFIX:
        if lowered.startswith(prefix):
            return name
    return "unknown"


def _tags(release: Mapping[str, Any]) -> list[str]:
    tag = release.get("tag")
    if isinstance(tag, str):
        return [tag]
    return [t for t in _list(tag) if isinstance(t, str)]


def _all_documents(release: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from _dicts(_dict(release.get("planning")).get("documents"))
    yield from _dicts(_dict(release.get("tender")).get("documents"))
    for section in ("awards", "contracts"):
        for entry in _dicts(release.get(section)):
            yield from _dicts(entry.get("documents"))


def _notice_document(release: Mapping[str, Any], release_id: str) -> dict[str, Any] | None:
    """The document describing *this* notice: FTS gives it the release id."""
    candidates = [doc for doc in _all_documents(release) if _str(doc.get("noticeType"))]
    for doc in candidates:
        if _str(doc.get("id")) == release_id:
            return doc
    return candidates[-1] if candidates else None


def _notice_type(release: Mapping[str, Any], release_id: str, tags: list[str]) -> str | None:
    doc = _notice_document(release, release_id)
    if doc is not None:
        return _str(doc.get("noticeType"))
    return tags[0] if tags else None


def _title(release: Mapping[str, Any]) -> str:
    tender = _dict(release.get("tender"))
    for candidate in (tender.get("title"), release.get("title")):
        cleaned = clean_title(candidate)
        if cleaned:
            return cleaned
    for award in _dicts(release.get("awards")):
        cleaned = clean_title(award.get("title"))
        if cleaned:
            return cleaned
    return ""


def _description(release: Mapping[str, Any]) -> str:
    tender = _dict(release.get("tender"))
    for candidate in (tender.get("description"), release.get("description")):
        cleaned = clean_description(candidate)
        if cleaned:
            return cleaned
    return ""


def _buyer_party(release: Mapping[str, Any]) -> dict[str, Any]:
    """The buyer's party entry (by buyer id, else role), or the old-shape ``buyer`` object."""
    buyer = _dict(release.get("buyer"))
    parties = _dicts(release.get("parties"))
    buyer_id = _str(buyer.get("id"))
    if buyer_id:
        for party in parties:
            if _str(party.get("id")) == buyer_id:
                return party
    for party in parties:
        roles = [r.lower() for r in _list(party.get("roles")) if isinstance(r, str)]
        if "buyer" in roles:
            return party
    return buyer


def _buyer_name(release: Mapping[str, Any], party: Mapping[str, Any]) -> str | None:
    for candidate in (_dict(release.get("buyer")).get("name"), party.get("name")):
        cleaned = clean_title(candidate)
        if cleaned:
            return cleaned
    return None


def _classifications(release: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    tender = _dict(release.get("tender"))
    yield _dict(tender.get("classification"))
    yield from _dicts(tender.get("additionalClassifications"))
    items = _dicts(tender.get("items"))
    for award in _dicts(release.get("awards")):
        items.extend(_dicts(award.get("items")))
    for item in items:
        yield _dict(item.get("classification"))
        yield from _dicts(item.get("additionalClassifications"))


def normalise_cpv(value: Any) -> str | None:
    """``"85300000-2"`` → ``"85300000"``; integers are zero-padded; other text → None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value).zfill(8)
    text = _str(value)
    if text is None:
        return None
    match = _CPV_RE.match(text.replace(" ", ""))
    return match.group(1) if match else None


def _cpv_codes(release: Mapping[str, Any]) -> tuple[str, ...]:
    codes: list[str] = []
    for classification in _classifications(release):
        scheme = _str(classification.get("scheme"))
        if scheme is None or scheme.upper() != "CPV":
            continue
        code = normalise_cpv(classification.get("id"))
        if code is not None:
            codes.append(code)
    return dedupe(codes)


def _items(release: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = _dicts(_dict(release.get("tender")).get("items"))
    for award in _dicts(release.get("awards")):
        items.extend(_dicts(award.get("items")))
    return items


def _codes_from_region_value(value: Any) -> list[str]:
    text = _str(value)
    return normalise_region_name(text) if text else []


def _location_codes(location: Mapping[str, Any]) -> list[str]:
    """OCDS location extension: ``gazetteer: {scheme: NUTS, identifiers: [...]}``."""
    gazetteer = _dict(location.get("gazetteer"))
    scheme = (_str(gazetteer.get("scheme")) or "").upper()
    if scheme not in ("NUTS", "ITL", ""):
        return []
    codes = []
    for identifier in _list(gazetteer.get("identifiers")):
        code = normalise_nuts_code(identifier) if isinstance(identifier, str) else None
        if code:
            codes.append(code)
    return codes


def _delivery_regions(items: list[dict[str, Any]]) -> list[str]:
    codes: list[str] = []
    for item in items:
        for address in _dicts(item.get("deliveryAddresses")):
            codes.extend(_codes_from_region_value(address.get("region")))
            if not _str(address.get("region")):
                country = _str(address.get("countryName")) or _str(address.get("country"))
                if country and country.lower() in ("united kingdom", "uk", "gb"):
                    codes.append("UK")
        locations = _dicts(item.get("deliveryLocations"))
        locations.extend(_dicts([item.get("deliveryLocation")]))
        for location in locations:
            codes.extend(_location_codes(location))
    return codes


def _delivery_postcodes(items: list[dict[str, Any]]) -> list[str]:
    return [
        postcode
        for item in items
        for address in _dicts(item.get("deliveryAddresses"))
        if (postcode := _str(address.get("postalCode")))
    ]


def _regions(items: list[dict[str, Any]], buyer_address: Mapping[str, Any]) -> tuple[str, ...]:
    """Delivery regions, else delivery postcodes, else the buyer's region or postcode."""
    codes = _delivery_regions(items)
    if not codes:
        codes = [c for p in _delivery_postcodes(items) if (c := region_from_postcode(p))]
    if not codes:
        codes = _codes_from_region_value(buyer_address.get("region"))
    if not codes:
        postcode = _str(buyer_address.get("postalCode"))
        code = region_from_postcode(postcode) if postcode else None
        codes = [code] if code else []
    return dedupe(codes)


def _amount(value: Mapping[str, Any]) -> float | None:
    """Net ``amount``, else ``amountGross`` (FTS awards sometimes give only gross)."""
    for key in ("amount", "amountGross"):
        number = _number(value.get(key))
        if number is not None and number > 0:
            return number
    return None


def _value(release: Mapping[str, Any]) -> Value | None:
    """Tender value/minValue; when the tender has neither, the sum of the award values.

    Zero amounts are treated as absent: CF exports write ``0`` for "not given".
    """
    tender = _dict(release.get("tender"))
    value, minimum = _dict(tender.get("value")), _dict(tender.get("minValue"))
    amount, low = _amount(value), _amount(minimum)
    if amount is not None or low is not None:
        currency = _str(value.get("currency")) or _str(minimum.get("currency")) or "GBP"
        return Value(amount=amount, min=low, currency=currency)
    awarded = [
        (number, _str(_dict(a.get("value")).get("currency")) or "GBP")
        for a in _dicts(release.get("awards"))
        if (number := _amount(_dict(a.get("value")))) is not None
    ]
    if not awarded:
        return None
    currency = awarded[0][1]
    total = sum(number for number, cur in awarded if cur == currency)
    return Value(amount=total, min=None, currency=currency)


def _suitability(release: Mapping[str, Any]) -> tuple[bool | None, bool | None]:
    """``tender.suitability`` (current) or ``tender.xClassifications`` (CF before 2020s)."""
    tender = _dict(release.get("tender"))
    suitability = _dict(tender.get("suitability"))
    legacy = _dict(tender.get("xClassifications"))
    sme = to_bool(suitability.get("sme"))
    vcse = to_bool(suitability.get("vcse"))
    if sme is None:
        sme = to_bool(legacy.get("isSuitableForSme"))
    if vcse is None:
        vcse = to_bool(legacy.get("isSuitableForVco"))
    lots = [_dict(lot.get("suitability")) for lot in _dicts(tender.get("lots"))]
    if sme is None and any("sme" in lot for lot in lots):
        sme = any(to_bool(lot.get("sme")) for lot in lots)
    if vcse is None and any("vcse" in lot for lot in lots):
        vcse = any(to_bool(lot.get("vcse")) for lot in lots)
    return sme, vcse


def _url(
    release: Mapping[str, Any], source: str, release_id: str, package_uri: str | None
) -> str | None:
    if source == "find_a_tender" and re.fullmatch(r"\d{6}-\d{4}", release_id):
        return FTS_NOTICE_URL.format(id=release_id)
    if source == "contracts_finder":
        match = _CF_RELEASE_ID_RE.match(release_id)
        if match is None and package_uri:
            match = _CF_PACKAGE_URI_RE.search(package_uri)
        if match is not None:
            return CF_NOTICE_URL.format(id=match.group(1).lower())
    for doc in _all_documents(release):
        url = _str(doc.get("url"))
        if url and url.startswith("http") and doc.get("documentType") in _NOTICE_DOC_TYPES:
            return url
    return None


def _release_id(release: Mapping[str, Any], ocid: str) -> str:
    """The release id, or ``ocid@date`` when the publisher gave none (PCS)."""
    release_id = _str(release.get("id"))
    if release_id:
        return release_id
    date = _str(release.get("date"))
    return f"{ocid}@{date}" if date else ocid


def _published(release: Mapping[str, Any], notice_doc: Mapping[str, Any] | None) -> datetime | None:
    """First publication: ``tender.datePublished``, the notice document's, else the release date."""
    tender = _dict(release.get("tender"))
    for candidate in (
        tender.get("datePublished"),
        (notice_doc or {}).get("datePublished"),
        release.get("date"),
    ):
        parsed = parse_datetime(candidate)
        if parsed is not None:
            return parsed
    return None


# ----------------------------------------------------------------- one release
def parse_release(
    release: Any, *, package_uri: str | None = None, package_date: str | None = None
) -> Notice:
    """Normalise one OCDS release; raise :class:`ReleaseError` if it has no usable ocid.

    ``package_uri`` (the package's ``uri``) lets a Contracts Finder per-notice
    package supply the notice page when the release id does not contain it;
    ``package_date`` stands in for a missing release ``date``.
    """
    if not isinstance(release, dict):
        raise ReleaseError(f"expected a JSON object, got {type(release).__name__}")
    ocid = _str(release.get("ocid"))
    if ocid is None or isinstance(release.get("ocid"), int | float):
        raise ReleaseError("missing or invalid 'ocid'")
    if package_date and not _str(release.get("date")):
        release = {**release, "date": package_date}
    source = source_for_ocid(ocid)
    release_id = _release_id(release, ocid)
    tags = _tags(release)
    tender = _dict(release.get("tender"))
    notice_type = _notice_type(release, release_id, tags)
    party = _buyer_party(release)
    buyer_address = _dict(party.get("address"))
    postcode = _str(buyer_address.get("postalCode"))
    sme, vcse = _suitability(release)
    return Notice(
        source=source,
        ocid=ocid,
        release_id=release_id,
        notice_type=notice_type,
        stage=pick_stage(
            tags=tags, notice_type=notice_type, tender_status=_str(tender.get("status"))
        ),
        title=_title(release),
        description=_description(release),
        buyer=_buyer_name(release, party),
        cpv=_cpv_codes(release),
        regions=_regions(_items(release), buyer_address),
        value=_value(release),
        deadline=parse_datetime(_dict(tender.get("tenderPeriod")).get("endDate")),
        published=_published(release, _notice_document(release, release_id)),
        updated=parse_datetime(release.get("date")),
        suitable_sme=sme,
        suitable_vcse=vcse,
        url=_url(release, source, release_id, package_uri),
        buyer_postcode=normalise_postcode(postcode) if postcode else None,
    )


def _problem(index: int, release: Any, reason: str) -> ParseProblem:
    ocid = _str(release.get("ocid")) if isinstance(release, dict) else None
    release_id = _str(release.get("id")) if isinstance(release, dict) else None
    return ParseProblem(index=index, ocid=ocid, reason=reason, release_id=release_id)


def iter_releases(
    releases: Iterable[Any],
    *,
    package_uri: str | None = None,
    package_uris: list[str | None] | None = None,
    package_date: str | None = None,
    start: int = 0,
) -> Iterator[Notice | ParseProblem]:
    """Parse releases one by one; a bad one yields a :class:`ParseProblem` and the loop goes on."""
    for offset, release in enumerate(releases):
        index = start + offset
        uri = package_uris[offset] if package_uris and offset < len(package_uris) else None
        try:
            yield parse_release(release, package_uri=uri or package_uri, package_date=package_date)
        except ReleaseError as exc:
            yield _problem(index, release, str(exc))
        except Exception as exc:  # a publisher's data must never stop a poll
            yield _problem(index, release, f"unexpected {type(exc).__name__}: {exc}")


def releases_of_record_package(package: Mapping[str, Any]) -> list[Any]:
    """Each record's ``compiledRelease``, else its embedded releases."""
    releases: list[Any] = []
    for record in _list(package.get("records")):
        if not isinstance(record, dict):
            releases.append(record)
        elif isinstance(record.get("compiledRelease"), dict):
            releases.append(record["compiledRelease"])
        else:
            releases.extend(r for r in _list(record.get("releases")) if isinstance(r, dict))
    return releases


def _x_source_uris(package: Mapping[str, Any]) -> list[str | None] | None:
    """Per-release package URIs kept by our sample files in ``x_sourcePackages``."""
    sources = package.get("x_sourcePackages")
    if not isinstance(sources, list):
        return None
    return [_str(_dict(entry).get("uri")) for entry in sources]


def iter_package(package: Mapping[str, Any], *, start: int = 0) -> Iterator[Notice | ParseProblem]:
    """Parse a release package (``releases``) or a record package (``records``)."""
    if "records" in package and "releases" not in package:
        releases = releases_of_record_package(package)
    else:
        releases = _list(package.get("releases"))
    yield from iter_releases(
        releases,
        package_uri=_str(package.get("uri")),
        package_uris=_x_source_uris(package),
        start=start,
    )


def is_package(obj: Any) -> bool:
    """A release or record package (what the APIs return)."""
    return isinstance(obj, dict) and (
        isinstance(obj.get("releases"), list) or isinstance(obj.get("records"), list)
    )


def is_release(obj: Any) -> bool:
    return isinstance(obj, dict) and "ocid" in obj


def parse_package(obj: Mapping[str, Any]) -> ParseResult:
    """Parse a whole package into a :class:`ParseResult`."""
    result = ParseResult()
    for item in iter_package(obj):
        result.add(item)
    return result
