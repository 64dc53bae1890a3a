"""What an enterprise wants: the matching profile, parsed and validated.

The JSON shape is fixed by DESIGN.md (``bestbot match --profiles``, ``subscribers import``):
``{"id", "keywords", "exclude", "cpv", "regions", "min_value", "max_value", "vcse_only",
"sme_only", "stages"}`` plus two flags of our own, ``local_only`` (drop UK-wide and
England-wide notices) and ``require_value`` (drop notices that state no value), and
``description``: what the enterprise says it does, in its own words (kept by onboarding). The
description is never a keyword: it only backs up weak evidence for the "maybe" tier
(:mod:`matchers.tiers`); ``strict``: the stricter rules, for a profile whose alerts were
mostly turned down (:func:`matchers.feedback.wants_strict`); ``reserved`` (only contracts
reserved for supported employment providers, public service mutuals...). Unknown keys
are ignored so that subscriber files (with names and emails) can be read as profiles too.

Errors name the profile and the field, because a user fixing a file of a hundred profiles
needs to know which one is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from feeds.notice import RESERVATIONS
from matchers import cpv as cpv_codes
from matchers import regions as region_codes
from matchers.text import tokenize

DEFAULT_STAGES: tuple[str, ...] = ("planning", "tender")
KNOWN_STAGES: frozenset[str] = frozenset(
    {"planning", "tender", "award", "contract", "cancelled", "unknown"}
)


class ProfileError(ValueError):
    """A profile field is invalid. ``str()`` reads ``profile 'x': field 'cpv': why``."""

    def __init__(self, profile_id: str | None, field: str, problem: str) -> None:
        self.profile_id = profile_id
        self.field = field
        self.problem = problem
        who = f"profile {profile_id!r}" if profile_id is not None else "profile"
        super().__init__(f"{who}: field {field!r}: {problem}")


@dataclass(frozen=True, slots=True)
class Profile:
    """One enterprise's matching preferences (validated; regions as NUTS codes)."""

    id: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    cpv: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    vcse_only: bool = False
    sme_only: bool = False
    stages: tuple[str, ...] = DEFAULT_STAGES
    local_only: bool = False
    require_value: bool = False
    description: str = ""
    strict: bool = False
    #: Reservation codes (:data:`feeds.notice.RESERVATIONS`): when given, only contracts or
    #: lots reserved for one of them match (see :mod:`matchers.lots`).
    reserved: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Parse and validate (same as :func:`parse_profile`)."""
        return parse_profile(data)

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md JSON shape (regions as codes), readable by :meth:`from_dict`."""
        return {
            "id": self.id,
            "keywords": list(self.keywords),
            "exclude": list(self.exclude),
            "cpv": list(self.cpv),
            "regions": list(self.regions),
            "min_value": self.min_value,
            "max_value": self.max_value,
            "vcse_only": self.vcse_only,
            "sme_only": self.sme_only,
            "stages": list(self.stages),
            "local_only": self.local_only,
            "require_value": self.require_value,
            "description": self.description,
            "strict": self.strict,
            "reserved": list(self.reserved),
        }


def _strings(pid: str, field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ProfileError(pid, field, "must be a list of strings")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ProfileError(pid, field, f"must be a list of strings, got {item!r}")
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return tuple(out)


def _searchable(pid: str, field: str, phrases: tuple[str, ...]) -> None:
    for phrase in phrases:
        if not tokenize(phrase.strip("\"“”'")):
            raise ProfileError(pid, field, f"{phrase!r} has no letters or digits to search for")


def _number(pid: str, field: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProfileError(pid, field, f"must be a number, got {value!r}")
    try:
        number = float(str(value).replace(",", "").replace("£", "").strip())
    except ValueError:
        raise ProfileError(pid, field, f"must be a number, got {value!r}") from None
    if number < 0 or number != number:
        raise ProfileError(pid, field, f"must be zero or more, got {value!r}")
    return number


#: A description is a paragraph or two; more is pasted text that says nothing more.
MAX_DESCRIPTION = 2000


def _description(pid: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProfileError(pid, "description", f"must be text, got {value!r}")
    return " ".join(value.split())[:MAX_DESCRIPTION]


def _flag(pid: str, field: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProfileError(pid, field, f"must be true or false, got {value!r}")
    return value


def parse_profile(data: Mapping[str, Any]) -> Profile:
    """Validate one profile object; raise :class:`ProfileError` naming the field at fault."""
    if not isinstance(data, Mapping):
        raise ProfileError(None, "id", "each profile must be a JSON object")
    raw_id = data.get("id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or not str(raw_id).strip():
        raise ProfileError(None, "id", "missing or empty")
    pid = str(raw_id).strip()
    if "keywords" not in data:
        raise ProfileError(pid, "keywords", "missing (give a list, empty only when 'cpv' is set)")
    keywords = _strings(pid, "keywords", data.get("keywords"))
    exclude = _strings(pid, "exclude", data.get("exclude"))
    _searchable(pid, "keywords", keywords)
    _searchable(pid, "exclude", exclude)

    codes: list[str] = []
    for code in _strings(pid, "cpv", data.get("cpv")):
        if not cpv_codes.is_valid_prefix(code):
            raise ProfileError(pid, "cpv", f"{code!r} is not a CPV code (2 to 8 digits)")
        codes.append(cpv_codes.clean_code(code))
    if not keywords and not codes:
        raise ProfileError(pid, "keywords", "empty: give at least one keyword or a CPV code")

    regions: list[str] = []
    for region in _strings(pid, "regions", data.get("regions")):
        region_code = region_codes.to_code(region)
        if region_code is None:
            raise ProfileError(
                pid, "regions", f"{region!r} is not a NUTS code or a region name we know"
            )
        for c in region_codes.expand(region_code):
            if c not in regions:
                regions.append(c)

    min_value = _number(pid, "min_value", data.get("min_value"))
    max_value = _number(pid, "max_value", data.get("max_value"))
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ProfileError(pid, "max_value", f"{max_value:g} is below min_value {min_value:g}")

    stages = _strings(pid, "stages", data.get("stages")) or DEFAULT_STAGES
    stages = tuple(s.lower() for s in stages)
    for stage in stages:
        if stage not in KNOWN_STAGES:
            known = ", ".join(sorted(KNOWN_STAGES))
            raise ProfileError(pid, "stages", f"{stage!r} is not a stage (one of: {known})")

    reserved = _strings(pid, "reserved", data.get("reserved"))
    for code in reserved:
        if code not in RESERVATIONS:
            known = ", ".join(sorted(RESERVATIONS))
            raise ProfileError(pid, "reserved", f"{code!r} is not a reservation (one of: {known})")

    return Profile(
        id=pid,
        keywords=keywords,
        exclude=exclude,
        cpv=tuple(codes),
        regions=tuple(regions),
        min_value=min_value,
        max_value=max_value,
        vcse_only=_flag(pid, "vcse_only", data.get("vcse_only")),
        sme_only=_flag(pid, "sme_only", data.get("sme_only")),
        stages=stages,
        local_only=_flag(pid, "local_only", data.get("local_only")),
        require_value=_flag(pid, "require_value", data.get("require_value")),
        description=_description(pid, data.get("description")),
        strict=_flag(pid, "strict", data.get("strict")),
        reserved=reserved,
    )


def parse_profiles(items: Any) -> list[Profile]:
    """Validate a JSON list of profiles; ids must be unique."""
    if not isinstance(items, list):
        raise ProfileError(None, "id", "the profiles file must hold a JSON list of objects")
    seen: set[str] = set()
    out: list[Profile] = []
    for item in items:
        profile = parse_profile(item)
        if profile.id in seen:
            raise ProfileError(profile.id, "id", "used by more than one profile")
        seen.add(profile.id)
        out.append(profile)
    return out


def profiles_from(items: Iterable[Mapping[str, Any]]) -> list[Profile]:
    """Convenience for callers holding dicts already (storage, tests)."""
    return parse_profiles(list(items))
