"""UK regions: NUTS codes, their names, and the region filter.

Find a Tender gives NUTS codes ("UKF14"); Contracts Finder gives names ("East Midlands").
Profiles may use either. The newer ITL codes ("TLF14") are the same tree with another prefix,
so they are read as NUTS.

Containment is by code prefix: a notice for the whole East Midlands (``UKF``) is of interest
to an enterprise in Nottingham (``UKF14``) and vice versa. A UK-wide or England-wide notice is
open to every English enterprise, so it passes unless the profile asks for local notices only.
"""

from __future__ import annotations

from functools import lru_cache

from matchers.text import clean

#: NUTS level-1 regions of the UK, plus level 2 everywhere and level 3 for the East Midlands
#: (the region bestbot was built for).
NUTS_NAMES: dict[str, str] = {
    "UK": "United Kingdom",
    "UKC": "North East",
    "UKC1": "Tees Valley and Durham",
    "UKC2": "Northumberland and Tyne and Wear",
    "UKD": "North West",
    "UKD1": "Cumbria",
    "UKD3": "Greater Manchester",
    "UKD4": "Lancashire",
    "UKD6": "Cheshire",
    "UKD7": "Merseyside",
    "UKE": "Yorkshire and The Humber",
    "UKE1": "East Yorkshire and Northern Lincolnshire",
    "UKE2": "North Yorkshire",
    "UKE3": "South Yorkshire",
    "UKE4": "West Yorkshire",
    "UKF": "East Midlands",
    "UKF1": "Derbyshire and Nottinghamshire",
    "UKF11": "Derby",
    "UKF12": "East Derbyshire",
    "UKF13": "South and West Derbyshire",
    "UKF14": "Nottingham",
    "UKF15": "North Nottinghamshire",
    "UKF16": "South Nottinghamshire",
    "UKF2": "Leicestershire, Rutland and Northamptonshire",
    "UKF21": "Leicester",
    "UKF22": "Leicestershire CC and Rutland",
    "UKF24": "West Northamptonshire",
    "UKF25": "North Northamptonshire",
    "UKF3": "Lincolnshire",
    "UKF30": "Lincolnshire",
    "UKG": "West Midlands",
    "UKG1": "Herefordshire, Worcestershire and Warwickshire",
    "UKG2": "Shropshire and Staffordshire",
    "UKG3": "West Midlands (county)",
    "UKH": "East of England",
    "UKH1": "East Anglia",
    "UKH2": "Bedfordshire and Hertfordshire",
    "UKH3": "Essex",
    "UKI": "London",
    "UKI3": "Inner London - West",
    "UKI4": "Inner London - East",
    "UKI5": "Outer London - East and North East",
    "UKI6": "Outer London - South",
    "UKI7": "Outer London - West and North West",
    "UKJ": "South East",
    "UKJ1": "Berkshire, Buckinghamshire and Oxfordshire",
    "UKJ2": "Surrey, East and West Sussex",
    "UKJ3": "Hampshire and Isle of Wight",
    "UKJ4": "Kent",
    "UKK": "South West",
    "UKK1": "Gloucestershire, Wiltshire and Bristol/Bath area",
    "UKK2": "Dorset and Somerset",
    "UKK3": "Cornwall and Isles of Scilly",
    "UKK4": "Devon",
    "UKL": "Wales",
    "UKL1": "West Wales and The Valleys",
    "UKL2": "East Wales",
    "UKM": "Scotland",
    "UKM5": "North Eastern Scotland",
    "UKM6": "Highlands and Islands",
    "UKM7": "Eastern Scotland",
    "UKM8": "West Central Scotland",
    "UKM9": "Southern Scotland",
    "UKN": "Northern Ireland",
}

ENGLISH_REGIONS: frozenset[str] = frozenset(
    {"UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK"}
)

#: Other names people and feeds use for a whole area.
_ALIASES: dict[str, str] = {
    "united kingdom": "UK",
    "uk": "UK",
    "great britain": "UK",
    "gb": "UK",
    "uk wide": "UK",
    "national": "UK",
    "england": "ENG",
    "yorkshire and the humber": "UKE",
    "yorkshire and humber": "UKE",
    "yorkshire": "UKE",
    "east of england": "UKH",
    "eastern": "UKH",
    "east": "UKH",
    "nottinghamshire": "UKF1",
    "derbyshire": "UKF1",
    "leicestershire": "UKF2",
    "northamptonshire": "UKF2",
    "rutland": "UKF22",
}

#: Pseudo-code for "all of England" (there is no NUTS code for it).
ENGLAND = "ENG"


def _norm(name: str) -> str:
    return " ".join(clean(name).casefold().replace("&", " and ").replace("-", " ").split())


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    table = {_norm(name): code for code, name in NUTS_NAMES.items()}
    table.update(_ALIASES)
    return table


def expand(code: str) -> tuple[str, ...]:
    """Profile-side expansion: "England" is the nine English regions."""
    return tuple(sorted(ENGLISH_REGIONS)) if code == ENGLAND else (code,)


def to_code(region: str) -> str | None:
    """A NUTS code (upper case, ITL read as NUTS) for a code or a name; None when unknown."""
    text = region.strip()
    upper = text.upper().replace(" ", "")
    if upper.startswith("TL") and 3 <= len(upper) <= 5 and upper[2:3].isalpha():
        upper = "UK" + upper[2:]
    if upper.startswith("UK") and 2 <= len(upper) <= 5 and upper[2:].isalnum():
        return upper
    if upper == ENGLAND:
        return ENGLAND
    return _by_name().get(_norm(text))


def name_of(code: str) -> str:
    """Level-1 region name of a code, for reasons: ``UKF14`` -> ``East Midlands``."""
    if code == ENGLAND:
        return "England"
    for length in (3, 2):
        name = NUTS_NAMES.get(code[:length])
        if name:
            return name
    return code


def is_national(codes: tuple[str, ...]) -> bool:
    """UK-wide or England-wide: "UK", "England", or every English region listed."""
    if any(c in ("UK", ENGLAND) for c in codes):
        return True
    return {c[:3] for c in codes} >= ENGLISH_REGIONS


def region_pass(
    profile_codes: tuple[str, ...], notice_codes: tuple[str, ...], local_only: bool
) -> tuple[bool, str | None]:
    """Whether a notice's place suits the profile, and the region to name in the reason.

    A notice without any region passes (unknown is not "elsewhere") unless ``local_only``.
    """
    if not profile_codes:
        return True, None
    if not notice_codes:
        return (not local_only), None
    for want in profile_codes:
        for code in notice_codes:
            if code.startswith(want) or (
                not local_only and code != "UK" and code != ENGLAND and want.startswith(code)
            ):
                return True, code
    if not local_only:
        if "UK" in notice_codes:
            return True, "UK"
        if ENGLAND in notice_codes and any(p[:3] in ENGLISH_REGIONS for p in profile_codes):
            return True, ENGLAND
    return False, None


def describe(code: str) -> str:
    """``East Midlands (UKF14)`` for reasons; national codes get a plain name."""
    if code == "UK":
        return "UK-wide"
    if code == ENGLAND:
        return "England-wide"
    return f"{name_of(code)} ({code})"
