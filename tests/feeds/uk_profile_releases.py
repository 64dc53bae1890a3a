"""Real-shaped Find a Tender releases for every UK notice type, built from the bundled samples.

We have real FTS releases for UK1, UK4 and UK6 only (``feeds/samples/fts_*``).
Every other notice type is built here by taking one of those real releases and
changing what that notice type changes, following OCDS 1.1, the UK extension
(``cabinetoffice/ocds_uk_extension``: ``expressionOfInterestDeadline``,
``proposedAmendments``, party flags, ``noticeType`` on documents, the
``tenderCancellationNotice``/``contractTerminationNotice``/``implementationNotice``
document types) and what is known of FTS's output: the ``["award",
"contract"]`` tag covers UK5, UK6, UK7, UK14 and UK15 alike, so only the
documents' ``noticeType`` tells them apart; a two-stage tender has
``expressionOfInterestDeadline`` and no ``tenderPeriod``; a UK2 served as a
record's compiled release is tagged ``["compiled"]`` and has its type only in
``planning.documents``; a ``tenderCancellation`` release is a stub without
items whose ``tender.status`` need not say cancelled. Each builder's docstring
says what it is modelled on.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests.feeds.conftest import SAMPLES

FTS_URL = "https://www.find-tender.service.gov.uk/Notice/{id}"
Release = dict[str, Any]


@cache
def _package(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def real(name: str, release_id: str | None = None) -> Release:
    """A deep copy of one real release from a bundled FTS sample."""
    releases = _package(name)["releases"]
    for release in releases:
        if release_id is None or release["id"] == release_id:
            return copy.deepcopy(release)
    raise KeyError(release_id)


def notice_doc(notice_id: str, code: str, doc_type: str, what: str, published: str) -> Release:
    """A notice document exactly as FTS writes one (see the UK4/UK6 samples)."""
    return {
        "id": notice_id,
        "documentType": doc_type,
        "noticeType": code,
        "description": f"{what} on Find a Tender",
        "url": FTS_URL.format(id=notice_id),
        "datePublished": published,
        "format": "text/html",
    }


def _restamp(release: Release, notice_id: str, tag: list[str], date: str) -> Release:
    release["id"] = notice_id
    release["tag"] = tag
    release["date"] = date
    return release


# ----------------------------------------------------------------- planning family
def uk1_pipeline() -> Release:
    """UK1: the real Northumberland pipeline notice, unchanged."""
    return real("fts_037689-2026_UK1_pipeline.json")


def uk2_engagement(*, compiled: bool = False) -> Release:
    """UK2: the real UK1 release turned into a preliminary market engagement notice.

    The engagement milestone (``id``/``type`` ``engagement``, ``dueDate``,
    ``status: scheduled``) and the ``marketEngagementNotice`` document are as
    FTS publishes them for UK2. ``compiled=True`` gives the record form: tag
    ``["compiled"]``, an ``ocid-date`` id that matches no document.
    """
    release = uk1_pipeline()
    published = "2026-04-09T12:57:36+01:00"
    _restamp(release, "032379-2026", ["planning"], published)
    release["planning"] = {
        "milestones": [
            {
                "id": "engagement",
                "type": "engagement",
                "description": "Complete the market engagement questionnaire on the Open portal.",
                "dueDate": "2026-04-24T23:59:59+01:00",
                "status": "scheduled",
            }
        ],
        "documents": [
            notice_doc(
                "032379-2026",
                "UK2",
                "marketEngagementNotice",
                "Preliminary market engagement notice",
                published,
            )
        ],
    }
    release["tender"].pop("communication")
    if compiled:
        release["tag"] = ["compiled"]
        release["id"] = f"{release['ocid']}-{published}"
    return release


def uk3_planned() -> Release:
    """UK3: the real UK1 as a planned procurement notice, with an *anticipated* tender period.

    Most UK3s state the tender deadline they expect (``tender.tenderPeriod``)
    and the date the tender notice should appear (``communication.futureNoticeDate``).
    """
    release = uk1_pipeline()
    published = "2026-05-02T10:00:00+01:00"
    _restamp(release, "041002-2026", ["planning"], published)
    release["planning"]["documents"] = [
        notice_doc(
            "041002-2026",
            "UK3",
            "plannedProcurementNotice",
            "Planned procurement notice",
            published,
        )
    ]
    release["tender"]["communication"] = {"futureNoticeDate": "2026-06-01T09:00:00+01:00"}
    release["tender"]["tenderPeriod"] = {"endDate": "2026-07-06T12:00:00+01:00"}
    return release


# ----------------------------------------------------------------- tender family
def uk4_two_stage() -> Release:
    """UK4: the real Central Bedfordshire competitive flexible procedure as FTS shows two-stage
    tenders: ``expressionOfInterestDeadline`` (the participation questionnaire) and no
    ``tenderPeriod``."""
    release = real("fts_release_package_2026-10-06_limit4.json", "094476-2026")
    release["tender"].pop("tenderPeriod")
    release["tender"]["expressionOfInterestDeadline"] = "2026-11-02T12:00:00+00:00"
    return release


def uk4_lots() -> Release:
    """UK4 in three lots, on the real Harrogate tender: per-lot values, SME/VCSE suitability
    (``lots[].suitability``), one lot reserved for supported employment providers
    (``lots[].otherRequirements.reservedParticipation``), items linked by ``relatedLot``."""
    release = real("fts_032703-2026_UK4_tender.json")
    tender = release["tender"]
    template = tender["lots"][0]
    lots = []
    for number, (title, amount, sme, vcse) in enumerate(
        [
            ("Feasibility study", 20000, True, True),
            ("Stakeholder engagement", 8000, True, False),
            ("Site surveys and grounds clearance", 5721, None, None),
        ],
        start=1,
    ):
        lot = copy.deepcopy(template)
        lot.update(id=str(number), title=title, value={"amount": amount, "currency": "GBP"})
        if sme is not None:
            lot["suitability"] = {"sme": sme, "vcse": vcse}
        lots.append(lot)
    lots[2]["otherRequirements"] = {"reservedParticipation": ["shelteredWorkshop"]}
    lots[1].pop("contractPeriod")
    tender["lots"] = lots
    item = tender["items"][0]
    tender["items"] = []
    for number, cpv in enumerate(["79314000", "79311000", "77310000"], start=1):
        linked = copy.deepcopy(item)
        linked["id"] = str(number)
        linked["relatedLot"] = str(number)
        linked["additionalClassifications"] = [{"scheme": "CPV", "id": cpv}]
        tender["items"].append(linked)
    tender["items"][2]["deliveryAddresses"] = [{"region": "UKE22", "country": "GB"}]
    return release


def uk4_reserved_mutual() -> Release:
    """UK4 reserved (whole tender) for public service mutuals, light-touch, as the UK profile
    writes it: ``tender.otherRequirements.reservedParticipation``
    ``["publicServiceMissionOrganization"]``."""
    release = real("fts_release_package_2026-10-06_limit4.json", "094476-2026")
    release["tender"]["otherRequirements"] = {
        "reservedParticipation": ["publicServiceMissionOrganization"]
    }
    return release


def uk13_dm_intention() -> Release:
    """UK13: the real Central Bedfordshire tender turned into an intention to establish a dynamic
    market: planned, ``techniques.hasDynamicPurchasingSystem``, no deadline at all."""
    release = real("fts_release_package_2026-10-06_limit4.json", "094476-2026")
    published = "2026-10-08T09:00:00+01:00"
    _restamp(release, "095001-2026", ["tender"], published)
    tender = release["tender"]
    for key in ("tenderPeriod", "enquiryPeriod", "awardPeriod"):
        tender.pop(key)
    tender["status"] = "planned"
    tender["title"] = "Supported Living Dynamic Market"
    tender["techniques"] = {
        "hasDynamicPurchasingSystem": True,
        "dynamicPurchasingSystem": {"type": "open"},
    }
    tender["documents"] = [
        notice_doc(
            "095001-2026",
            "UK13",
            "tenderNotice",
            "Dynamic market notice - intention to establish",
            published,
        )
    ]
    return release


def _members(release: Release, names: list[str]) -> list[Release]:
    """Value-less 'awards' listing the suppliers admitted to a dynamic market (as FTS does)."""
    awards = []
    for number, name in enumerate(names, start=1):
        party_id = f"GB-PPON-PDMM-{number:04d}-TEST"
        release["parties"].append(
            {
                "name": name,
                "id": party_id,
                "roles": ["supplier"],
                "details": {"scale": "sme", "vcse": number % 2 == 1},
            }
        )
        awards.append(
            {
                "id": str(number),
                "status": "active",
                "suppliers": [{"id": party_id, "name": name}],
            }
        )
    return awards


def uk14_dm_established() -> Release:
    """UK14: the UK13 above once established, tagged ``["award", "contract"]`` like every FTS
    UK14, with the admitted suppliers as value-less awards and the market's duration."""
    release = uk13_dm_intention()
    published = "2026-12-01T09:00:00+00:00"
    _restamp(release, "105550-2026", ["award", "contract"], published)
    tender = release["tender"]
    tender["status"] = "active"
    tender["contractPeriod"] = {
        "startDate": "2027-01-01T00:00:00+00:00",
        "endDate": "2030-12-31T23:59:59+00:00",
    }
    tender["documents"] = [
        notice_doc(
            "105550-2026",
            "UK14",
            "tenderNotice",
            "Dynamic market notice - establishment",
            published,
        )
    ]
    release["awards"] = _members(release, ["Mansfield Care CIC", "Ashfield Homes Ltd"])
    return release


def uk15_dm_modified() -> Release:
    """UK15: the UK14 after a modification; the notice document sits on the first award, the
    other place FTS puts notices of ``award, contract`` releases."""
    release = uk14_dm_established()
    published = "2027-03-01T09:00:00+00:00"
    _restamp(release, "021700-2027", ["award", "contract"], published)
    release["tender"]["documents"] = []
    release["awards"][0]["documents"] = [
        notice_doc(
            "021700-2027", "UK15", "awardNotice", "Dynamic market notice - modification", published
        )
    ]
    return release


def uk16_dm_ceased(*, tag: str = "tenderCancellation") -> Release:
    """UK16: the UK14 market closing; the tag may be a cancellation or a plain update."""
    release = uk14_dm_established()
    published = "2028-06-01T09:00:00+01:00"
    _restamp(release, "061600-2028", [tag], published)
    release["tender"]["status"] = "complete"
    release["tender"]["documents"] = [
        notice_doc(
            "061600-2028", "UK16", "tenderNotice", "Dynamic market notice - cessation", published
        )
    ]
    release.pop("awards")
    return release


def uk12_procurement_terminated() -> Release:
    """UK12: the Central Bedfordshire tender terminated: a stub with no items, tagged
    ``tenderCancellation``, whose ``tender.status`` still says ``active`` (as half of FTS's do)."""
    release = real("fts_release_package_2026-10-06_limit4.json", "094476-2026")
    published = "2026-11-20T16:00:00+00:00"
    _restamp(release, "101200-2026", ["tenderCancellation"], published)
    tender = release["tender"]
    release["tender"] = {
        "id": tender["id"],
        "legalBasis": tender["legalBasis"],
        "title": tender["title"],
        "description": "The procurement has been terminated: the requirement has changed.",
        "status": "active",
        "documents": [
            notice_doc(
                "101200-2026",
                "UK12",
                "tenderCancellationNotice",
                "Procurement termination notice",
                published,
            )
        ],
    }
    return release


# ----------------------------------------------------------------- award and contract family
def uk6_award() -> Release:
    """UK6: the real Nottinghamshire PCC award of Mentoring in Education to SWITCH UP C.I.C."""
    return real("fts_release_package_2026-10-06_limit4.json", "094474-2026")


def uk5_direct_award() -> Release:
    """UK5: the real Durham award (below threshold, without competition) as a transparency
    notice: ``procurementMethod: direct``, a pending award with no date (UK5s have none)."""
    release = real("fts_release_package_2026-10-06_limit4.json", "094475-2026")
    published = "2026-10-01T10:00:00+01:00"
    _restamp(release, "092205-2026", ["award", "contract"], published)
    release["tender"]["procurementMethodDetails"] = "Direct award"
    award = release["awards"][0]
    award.pop("date")
    award["status"] = "pending"
    award["documents"] = [
        notice_doc("092205-2026", "UK5", "awardNotice", "Transparency notice", published)
    ]
    return release


def uk7_contract_details() -> Release:
    """UK7: the real UK6 once signed: ``contracts[]`` linked by ``awardID`` carries the signed
    value, period and ``dateSigned``; the award itself keeps no value."""
    release = uk6_award()
    published = "2026-11-03T11:00:00+00:00"
    _restamp(release, "099707-2026", ["award", "contract"], published)
    award = release["awards"][0]
    award.pop("value")
    award["documents"] = [
        notice_doc("099707-2026", "UK7", "contractNotice", "Contract details notice", published)
    ]
    release["contracts"] = [
        {
            "id": "1",
            "awardID": "1",
            "status": "active",
            "value": {"amountGross": 250800, "amount": 209000, "currency": "GBP"},
            "period": {
                "startDate": "2026-11-01T00:00:00Z",
                "endDate": "2028-03-31T23:59:59+01:00",
                "maxExtentDate": "2030-03-31T23:59:59+01:00",
            },
            "dateSigned": "2026-10-30T00:00:00Z",
        }
    ]
    return release


def _contract_only(release: Release, notice_id: str, tag: str, published: str) -> Release:
    """What FTS sends after UK7: the contract, without the award block."""
    _restamp(release, notice_id, [tag], published)
    release.pop("awards")
    release.pop("bids", None)
    return release


def uk9_performance() -> Release:
    """UK9: a performance notice on the UK7 contract, its document under
    ``contracts[].implementation.documents`` (type ``implementationNotice``)."""
    published = "2027-11-15T10:00:00+00:00"
    release = _contract_only(uk7_contract_details(), "112909-2027", "implementation", published)
    release["contracts"][0]["implementation"] = {
        "documents": [
            notice_doc(
                "112909-2027",
                "UK9",
                "implementationNotice",
                "Contract performance notice",
                published,
            )
        ]
    }
    return release


def uk10_change(*, proposed: bool = False) -> Release:
    """UK10: the UK7 contract extended by a year with more money: an ``amendments[]`` entry
    (or the UK profile's ``proposedAmendments[]`` before it is signed) giving the amended
    contract's ``period`` and total ``value``."""
    published = "2028-02-10T10:00:00+00:00"
    release = _contract_only(uk7_contract_details(), "014410-2028", "contractAmendment", published)
    contract = release["contracts"][0]
    contract["documents"] = [
        notice_doc(
            "014410-2028", "UK10", "contractAmendmentNotice", "Contract change notice", published
        )
    ]
    change = {
        "id": "1",
        "date": "2028-02-09T00:00:00Z",
        "description": "Extension of the contract for the first of two optional 12 month periods.",
        "period": {"endDate": "2029-03-31T23:59:59+01:00"},
        "value": {"amount": 320000, "currency": "GBP"},
    }
    contract["proposedAmendments" if proposed else "amendments"] = [change]
    return release


def uk11_termination() -> Release:
    """UK11: the UK7 contract terminated early: ``status: terminated`` and the actual end."""
    published = "2027-07-01T10:00:00+01:00"
    release = _contract_only(
        uk7_contract_details(), "064411-2027", "contractTermination", published
    )
    contract = release["contracts"][0]
    contract["status"] = "terminated"
    contract["period"]["endDate"] = "2027-06-30T23:59:59+01:00"
    contract["documents"] = [
        notice_doc(
            "064411-2027",
            "UK11",
            "contractTerminationNotice",
            "Contract termination notice",
            published,
        )
    ]
    return release


def uk17_payments() -> Release:
    """UK17: a payments compliance notice is about the buyer, not a procurement: no tender
    items, no awards. FTS's tag for it is not in our samples; the notice type decides."""
    release = uk1_pipeline()
    published = "2026-05-30T10:00:00+01:00"
    _restamp(release, "050017-2026", ["planning"], published)
    release["tender"] = {
        "id": "payments-2025-26-h2",
        "title": "Payments compliance notice: October 2025 to March 2026",
        "description": "Invoices paid within 30 days: 94%.",
    }
    release["planning"] = {
        "documents": [
            notice_doc(
                "050017-2026", "UK17", "paymentsNotice", "Payments compliance notice", published
            )
        ]
    }
    return release


#: Every UK notice type's builder and the kind it must read as.
UK_RELEASES: dict[str, tuple[Any, str]] = {
    "UK1": (uk1_pipeline, "pipeline"),
    "UK2": (uk2_engagement, "engagement"),
    "UK3": (uk3_planned, "planned"),
    "UK4": (uk4_two_stage, "tender"),
    "UK5": (uk5_direct_award, "direct_award"),
    "UK6": (uk6_award, "award"),
    "UK7": (uk7_contract_details, "contract"),
    "UK9": (uk9_performance, "performance"),
    "UK10": (uk10_change, "change"),
    "UK11": (uk11_termination, "termination"),
    "UK12": (uk12_procurement_terminated, "cancelled"),
    "UK13": (uk13_dm_intention, "dm_intention"),
    "UK14": (uk14_dm_established, "dm_established"),
    "UK15": (uk15_dm_modified, "dm_modified"),
    "UK16": (uk16_dm_ceased, "dm_ceased"),
    "UK17": (uk17_payments, "payments"),
}
