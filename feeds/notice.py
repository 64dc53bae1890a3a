"""The normalised notice: the one shape every feed adapter produces.

Everything downstream (storage, matching, alerts) sees only this type, so a new
feed is just a new adapter. It is a frozen dataclass of plain values so that it
can cross threads (matching runs off the event loop) and be hashed for versions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Stage = Literal["planning", "tender", "award", "contract", "cancelled", "unknown"]
STAGES: tuple[str, ...] = ("planning", "tender", "award", "contract", "cancelled", "unknown")


@dataclass(frozen=True, slots=True)
class Value:
    """A contract value: ``amount`` is the upper/estimated figure, ``min`` the lower bound."""

    amount: float | None
    min: float | None
    currency: str | None = "GBP"


@dataclass(frozen=True, slots=True)
class Notice:
    """One release of one procurement, cleaned and normalised.

    ``source`` is the feed kind that produced it (``find_a_tender``,
    ``contracts_finder``, or another OCDS publisher's prefix), ``ocid`` the OCDS
    procurement id that stays the same across amendments.
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
    # Not part of the stable ``feed parse`` output; used for de-duplication across feeds.
    buyer_postcode: str | None = field(default=None, compare=False)

    def to_json_dict(self) -> dict[str, Any]:
        """The stable ``feed parse`` representation (keys fixed by DESIGN.md)."""
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
            "value": asdict(self.value) if self.value is not None else None,
            "deadline": _iso(self.deadline),
            "published": _iso(self.published),
            "updated": _iso(self.updated),
            "suitable_sme": self.suitable_sme,
            "suitable_vcse": self.suitable_vcse,
            "url": self.url,
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Notice:
        """Inverse of :meth:`to_json_dict` (used by ``bestbot match`` and storage)."""
        value = data.get("value")
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
            value=Value(
                amount=value.get("amount"), min=value.get("min"), currency=value.get("currency")
            )
            if isinstance(value, dict)
            else None,
            deadline=_parse_dt(data.get("deadline")),
            published=_parse_dt(data.get("published")),
            updated=_parse_dt(data.get("updated")),
            suitable_sme=data.get("suitable_sme"),
            suitable_vcse=data.get("suitable_vcse"),
            url=data.get("url"),
        )

    def content_hash(self) -> str:
        """Hash of everything a subscriber could see, excluding timestamps of publication.

        Two releases with the same hash are the same version: re-publishing an
        unchanged notice must not create a new version or a new alert.
        """
        payload = self.to_json_dict()
        for volatile in ("release_id", "published", "updated"):
            payload.pop(volatile, None)
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
