"""OCDS releases → :class:`feeds.notice.Notice`, tolerant of every shape we have seen.

One function per field keeps each rule readable and testable; the rules and
their reasons are in docs/feeds.md. The shapes differ a lot between publishers
and years (Contracts Finder 2014 with ``xClassifications``, CF 2022+ with
``suitability``, Find a Tender 2026 with UK notice types in documents, PCS and
Sell2Wales with NUTS codes), and the CSV export gives every value as a string,
so every field is read through :mod:`feeds.fields`, which takes the wrong type
as "absent" instead of failing. What a notice *is* comes from
:mod:`feeds.kinds`; its lots, awards and extra dates from :mod:`feeds.lots`,
:mod:`feeds.awards` and :mod:`feeds.dates`.

Public API::

    iter_releases(releases, *, package_uri=None) -> Iterator[Notice | ParseProblem]
    iter_package(package) -> Iterator[Notice | ParseProblem]
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
from datetime import datetime
from typing import Any

from feeds.awards import parse_amendments, parse_awards
from feeds.clean import clean_description, clean_title
from feeds.dates import parse_dates
from feeds.fields import (
    amount,
    as_dict,
    as_list,
    cpv_of_classifications,
    dicts,
    item_classifications,
    normalise_cpv,
    parse_datetime,
    text,
    to_bool,
)
from feeds.kinds import KINDS, KindHints, pick_kind
from feeds.lots import notice_reserved, parse_lots
from feeds.notice import Notice, NoticeDates, Value
from feeds.regions import dedupe, normalise_postcode, regions_of
from feeds.stages import pick_stage

__all__ = [
    "ParseProblem",
    "ParseResult",
    "ReleaseError",
    "is_package",
    "is_release",
    "iter_package",
    "iter_releases",
    "normalise_cpv",
    "parse_datetime",
    "parse_package",
    "parse_release",
    "source_for_ocid",
    "to_bool",
]

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
    return [t for t in as_list(tag) if isinstance(t, str)]


def _all_documents(release: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Documents where FTS puts notices: planning, tender, awards[], contracts[] (and their
    implementation, where a contract performance notice can sit)."""
    yield from dicts(as_dict(release.get("planning")).get("documents"))
    yield from dicts(as_dict(release.get("tender")).get("documents"))
    for section in ("awards", "contracts"):
        for entry in dicts(release.get(section)):
            yield from dicts(entry.get("documents"))
            yield from dicts(as_dict(entry.get("implementation")).get("documents"))


def _notice_document(release: Mapping[str, Any], release_id: str) -> dict[str, Any] | None:
    """The document describing *this* notice: FTS gives it the release id.

    A compiled release (a record's ``compiledRelease``, ``tag: ["compiled"]``)
    carries the documents of every notice of the procurement and its own id
    matches none of them: the latest published one is the current notice.
    """
    candidates = [doc for doc in _all_documents(release) if text(doc.get("noticeType"))]
    for doc in candidates:
        if text(doc.get("id")) == release_id:
            return doc
    if not candidates:
        return None
    dated = [(at, n) for n, doc in enumerate(candidates) if (at := _doc_date(doc)) is not None]
    if len(dated) == len(candidates):
        return candidates[max(dated)[1]]
    return candidates[-1]


def _doc_date(doc: Mapping[str, Any]) -> datetime | None:
    return parse_datetime(doc.get("datePublished"))


def _notice_type(doc: Mapping[str, Any] | None, tags: list[str]) -> str | None:
    if doc is not None:
        return text(doc.get("noticeType"))
    return tags[0] if tags else None


def _title(release: Mapping[str, Any]) -> str:
    tender = as_dict(release.get("tender"))
    for candidate in (tender.get("title"), release.get("title")):
        cleaned = clean_title(candidate)
        if cleaned:
            return cleaned
    for award in dicts(release.get("awards")):
        cleaned = clean_title(award.get("title"))
        if cleaned:
            return cleaned
    return ""


def _description(release: Mapping[str, Any]) -> str:
    tender = as_dict(release.get("tender"))
    for candidate in (tender.get("description"), release.get("description")):
        cleaned = clean_description(candidate)
        if cleaned:
            return cleaned
    return ""


def _buyer_party(release: Mapping[str, Any]) -> dict[str, Any]:
    """The buyer's party entry (by buyer id, else role), or the old-shape ``buyer`` object."""
    buyer = as_dict(release.get("buyer"))
    parties = dicts(release.get("parties"))
    buyer_id = text(buyer.get("id"))
    if buyer_id:
        for party in parties:
            if text(party.get("id")) == buyer_id:
                return party
    for party in parties:
        roles = [r.lower() for r in as_list(party.get("roles")) if isinstance(r, str)]
        if "buyer" in roles:
            return party
    return buyer


def _buyer_name(release: Mapping[str, Any], party: Mapping[str, Any]) -> str | None:
    for candidate in (as_dict(release.get("buyer")).get("name"), party.get("name")):
        cleaned = clean_title(candidate)
        if cleaned:
            return cleaned
    return None


def _classifications(release: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    tender = as_dict(release.get("tender"))
    yield as_dict(tender.get("classification"))
    yield from dicts(tender.get("additionalClassifications"))
    for item in _items(release):
        yield from item_classifications(item)


def _cpv_codes(release: Mapping[str, Any]) -> tuple[str, ...]:
    return dedupe(cpv_of_classifications(_classifications(release)))


def _items(release: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = dicts(as_dict(release.get("tender")).get("items"))
    for award in dicts(release.get("awards")):
        items.extend(dicts(award.get("items")))
    return items


def _value(release: Mapping[str, Any]) -> Value | None:
    """Tender value/minValue; when the tender has neither, the sum of the award values.

    Zero amounts are treated as absent: CF exports write ``0`` for "not given".
    """
    tender = as_dict(release.get("tender"))
    value, minimum = as_dict(tender.get("value")), as_dict(tender.get("minValue"))
    high, low = amount(value), amount(minimum)
    if high is not None or low is not None:
        currency = text(value.get("currency")) or text(minimum.get("currency")) or "GBP"
        return Value(amount=high, min=low, currency=currency)
    awarded = [
        (number, text(as_dict(a.get("value")).get("currency")) or "GBP")
        for a in dicts(release.get("awards"))
        if (number := amount(as_dict(a.get("value")))) is not None
    ]
    if not awarded:
        return None
    currency = awarded[0][1]
    total = sum(number for number, cur in awarded if cur == currency)
    return Value(amount=total, min=None, currency=currency)


def _suitability(release: Mapping[str, Any]) -> tuple[bool | None, bool | None]:
    """``tender.suitability`` (current) or ``tender.xClassifications`` (CF before 2020s)."""
    tender = as_dict(release.get("tender"))
    suitability = as_dict(tender.get("suitability"))
    legacy = as_dict(tender.get("xClassifications"))
    sme = to_bool(suitability.get("sme"))
    vcse = to_bool(suitability.get("vcse"))
    if sme is None:
        sme = to_bool(legacy.get("isSuitableForSme"))
    if vcse is None:
        vcse = to_bool(legacy.get("isSuitableForVco"))
    lots = [as_dict(lot.get("suitability")) for lot in dicts(tender.get("lots"))]
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
        url = text(doc.get("url"))
        if url and url.startswith("http") and doc.get("documentType") in _NOTICE_DOC_TYPES:
            return url
    return None


def _release_id(release: Mapping[str, Any], ocid: str) -> str:
    """The release id, or ``ocid@date`` when the publisher gave none (PCS)."""
    release_id = text(release.get("id"))
    if release_id:
        return release_id
    date = text(release.get("date"))
    return f"{ocid}@{date}" if date else ocid


def _published(release: Mapping[str, Any], notice_doc: Mapping[str, Any] | None) -> datetime | None:
    """First publication: ``tender.datePublished``, the notice document's, else the release date."""
    tender = as_dict(release.get("tender"))
    for candidate in (
        tender.get("datePublished"),
        (notice_doc or {}).get("datePublished"),
        release.get("date"),
    ):
        parsed = parse_datetime(candidate)
        if parsed is not None:
            return parsed
    return None


def _kind_hints(release: Mapping[str, Any], dates: NoticeDates) -> KindHints:
    """What tells a Contracts Finder early engagement from a future opportunity (see kinds)."""
    return KindHints(
        document_types=frozenset(
            doc_type
            for doc in _all_documents(release)
            if (doc_type := text(doc.get("documentType")))
        ),
        engagement_milestone=dates.engagement_end is not None,
        future_notice_date=dates.future_notice is not None,
    )


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
    ocid = text(release.get("ocid"))
    if ocid is None or isinstance(release.get("ocid"), int | float):
        raise ReleaseError("missing or invalid 'ocid'")
    if package_date and not text(release.get("date")):
        release = {**release, "date": package_date}
    source = source_for_ocid(ocid)
    release_id = _release_id(release, ocid)
    tags = _tags(release)
    tender = as_dict(release.get("tender"))
    notice_doc = _notice_document(release, release_id)
    notice_type = _notice_type(notice_doc, tags)
    dates = parse_dates(release)
    party = _buyer_party(release)
    buyer_address = as_dict(party.get("address"))
    postcode = text(buyer_address.get("postalCode"))
    sme, vcse = _suitability(release)
    status = text(tender.get("status"))
    kind = pick_kind(
        tags=tags, notice_type=notice_type, tender_status=status, hints=_kind_hints(release, dates)
    )
    lots = parse_lots(tender)
    return Notice(
        source=source,
        ocid=ocid,
        release_id=release_id,
        notice_type=notice_type,
        stage=KINDS[kind].stage
        if kind != "unknown"
        else pick_stage(tags=tags, notice_type=notice_type, tender_status=status),
        title=_title(release),
        description=_description(release),
        buyer=_buyer_name(release, party),
        cpv=_cpv_codes(release),
        regions=regions_of(_items(release), buyer_address),
        value=_value(release),
        deadline=parse_datetime(as_dict(tender.get("tenderPeriod")).get("endDate")),
        published=_published(release, notice_doc),
        updated=parse_datetime(release.get("date")),
        suitable_sme=sme,
        suitable_vcse=vcse,
        url=_url(release, source, release_id, package_uri),
        kind=kind,
        dates=dates,
        lots=lots,
        reserved=notice_reserved(tender, lots),
        awards=parse_awards(release),
        amendments=parse_amendments(release),
        buyer_postcode=normalise_postcode(postcode) if postcode else None,
    )


def _problem(index: int, release: Any, reason: str) -> ParseProblem:
    ocid = text(release.get("ocid")) if isinstance(release, dict) else None
    release_id = text(release.get("id")) if isinstance(release, dict) else None
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
    for record in as_list(package.get("records")):
        if not isinstance(record, dict):
            releases.append(record)
        elif isinstance(record.get("compiledRelease"), dict):
            releases.append(record["compiledRelease"])
        else:
            releases.extend(r for r in as_list(record.get("releases")) if isinstance(r, dict))
    return releases


def _x_source_uris(package: Mapping[str, Any]) -> list[str | None] | None:
    """Per-release package URIs kept by our sample files in ``x_sourcePackages``."""
    sources = package.get("x_sourcePackages")
    if not isinstance(sources, list):
        return None
    return [text(as_dict(entry).get("uri")) for entry in sources]


def iter_package(package: Mapping[str, Any], *, start: int = 0) -> Iterator[Notice | ParseProblem]:
    """Parse a release package (``releases``) or a record package (``records``)."""
    if "records" in package and "releases" not in package:
        releases = releases_of_record_package(package)
    else:
        releases = as_list(package.get("releases"))
    yield from iter_releases(
        releases,
        package_uri=text(package.get("uri")),
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
