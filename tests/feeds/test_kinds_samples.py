"""Kinds over every bundled real sample, against counts taken straight from the raw files.

The expected kind of each raw release is worked out here from the JSON (or the
CSV's own columns) with the documented rules written out plainly, not by
calling the parser's helpers; the parser must agree release by release.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from feeds.kinds import KINDS
from tests.feeds.conftest import SAMPLES, parsed

SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
UK_KIND = {"UK1": "pipeline", "UK4": "tender", "UK6": "award"}  # the codes in the samples


def _raw_releases(name: str) -> Iterator[dict[str, Any]]:
    """Each release as the file holds it; a CSV row gives its tag, status and planning columns."""
    data = SAMPLES.joinpath(name).read_text(encoding="utf-8-sig")
    if name.endswith(".csv"):
        for row in csv.DictReader(io.StringIO(data)):
            tag = row.get("releases/0/tag") or row.get("releases/0/tag/0") or ""
            yield {
                "ocid": row["releases/0/ocid"],
                "tag": [tag],
                "tender": {"status": row.get("releases/0/tender/status")},
            }
    elif name.endswith(".jsonl"):
        for line in data.splitlines():
            if line.strip():
                yield json.loads(line)
    else:
        yield from json.loads(data)["releases"]


def _docs(release: dict[str, Any]) -> list[dict[str, Any]]:
    found = list((release.get("planning") or {}).get("documents") or [])
    found += (release.get("tender") or {}).get("documents") or []
    for award in release.get("awards") or []:
        found += award.get("documents") or []
    return found


def expected_kind(release: dict[str, Any]) -> str:
    tender = release.get("tender") or {}
    if tender.get("status") in ("cancelled", "withdrawn"):
        return "cancelled"
    codes = {d["id"]: d["noticeType"] for d in _docs(release) if d.get("noticeType")}
    if release.get("id") in codes:
        return UK_KIND[codes[release["id"]]]
    tag = release["tag"][0] if isinstance(release["tag"], list) else release["tag"]
    if tag == "planning":
        types = {d.get("documentType") for d in _docs(release)}
        milestones = (release.get("planning") or {}).get("milestones") or []
        if "marketEngagementNotice" in types or any(m["type"] == "engagement" for m in milestones):
            return "engagement"
        if "plannedProcurementNotice" in types or (tender.get("communication") or {}).get(
            "futureNoticeDate"
        ):
            return "pipeline"
        return "planned"
    return {"tender": "tender", "tenderAmendment": "tender", "award": "award"}.get(
        tag, "award" if tag == "awardUpdate" else "?"
    )


def test_every_sample_release_has_the_kind_the_raw_file_gives() -> None:
    for name in SAMPLE_NAMES:
        expected = [expected_kind(r) for r in _raw_releases(name)]
        got = [n.kind for n in parsed(name).notices]
        assert got == expected, name


def test_kind_totals_over_all_samples() -> None:
    totals: Counter[str] = Counter()
    by_source: Counter[tuple[str, str]] = Counter()
    for name in SAMPLE_NAMES:
        for n in parsed(name).notices:
            totals[n.kind] += 1
            by_source[(n.source, n.kind)] += 1
            assert KINDS[n.kind].stage == n.stage
    raw_total = sum(1 for name in SAMPLE_NAMES for _ in _raw_releases(name))
    assert sum(totals.values()) == raw_total == 1033
    # Nothing unclassified; the bundled data is tenders and awards, with a few early notices.
    assert totals["unknown"] == 0
    assert set(totals) <= {"tender", "award", "engagement", "pipeline", "planned", "cancelled"}
    assert totals["tender"] > totals["award"] > totals["engagement"] > totals["pipeline"] > 0
    # CF early engagement notices are engagements; CF future opportunities are pipeline.
    assert by_source[("contracts_finder", "engagement")] == totals["engagement"]
    assert by_source[("find_a_tender", "pipeline")] == 1
    # PCS and Sell2Wales (old-regime contract notices) are all tenders.
    assert by_source[("public_contracts_scotland", "tender")] == 90
    assert by_source[("sell2wales", "tender")] == 90
