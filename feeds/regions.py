"""UK regions as NUTS codes: from codes, from names, from postcodes.

Matching works on NUTS/ITL codes by prefix (a profile for ``UKF`` East Midlands
matches a notice in ``UKF14`` Nottingham), so every way a feed names a place is
turned into codes here: Find a Tender, PCS and Sell2Wales give NUTS codes,
Contracts Finder gives region *names* ("East Midlands") or only a postcode.

Conventions (documented in docs/feeds.md):

* ``"UK"`` means the whole United Kingdom; matchers should treat it as
  covering every region.
* ``"England"`` expands to the nine English NUTS1 codes, because England has
  no NUTS code of its own.
* ITL codes (``TLF14``) are the post-2021 names of the same areas and are
  converted back to NUTS (``UKF14``).
"""

from __future__ import annotations

import re

NUTS1_NAMES: dict[str, str] = {
    "UKC": "North East",
    "UKD": "North West",
    "UKE": "Yorkshire and the Humber",
    "UKF": "East Midlands",
    "UKG": "West Midlands",
    "UKH": "East of England",
    "UKI": "London",
    "UKJ": "South East",
    "UKK": "South West",
    "UKL": "Wales",
    "UKM": "Scotland",
    "UKN": "Northern Ireland",
}
ENGLAND: tuple[str, ...] = ("UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK")

_ALIASES: dict[str, tuple[str, ...]] = {
    "north east england": ("UKC",),
    "north east of england": ("UKC",),
    "north-east": ("UKC",),
    "north west england": ("UKD",),
    "north west of england": ("UKD",),
    "north-west": ("UKD",),
    "yorkshire and humber": ("UKE",),
    "yorkshire & the humber": ("UKE",),
    "yorkshire & humber": ("UKE",),
    "yorkshire and the humber": ("UKE",),
    "yorkshire": ("UKE",),
    "east midlands": ("UKF",),
    "midlands": ("UKF", "UKG"),
    "west midlands": ("UKG",),
    "east of england": ("UKH",),
    "east anglia": ("UKH",),
    "eastern": ("UKH",),
    "east": ("UKH",),
    "greater london": ("UKI",),
    "south east england": ("UKJ",),
    "south east of england": ("UKJ",),
    "south-east": ("UKJ",),
    "south west england": ("UKK",),
    "south west of england": ("UKK",),
    "south-west": ("UKK",),
    "cymru": ("UKL",),
    "england": ENGLAND,
    "great britain": ("UK",),
    "united kingdom": ("UK",),
    "uk": ("UK",),
    "gb": ("UK",),
}
_BY_NAME: dict[str, tuple[str, ...]] = {
    **{name.lower(): (code,) for code, name in NUTS1_NAMES.items()},
    **_ALIASES,
}
_NUTS_RE = re.compile(r"^(?:UK|TL)([C-N](?:[0-9A-Z]{1,3})?)?$")

# Postcode area (letters before the digits) -> NUTS1, by where most of the area lies.
_AREA_TO_NUTS1: dict[str, str] = {}
for _code, _areas in {
    "UKC": "NE SR DH DL TS",
    "UKD": "CA LA PR BB BL FY L M OL SK WA WN CH CW",
    "UKE": "BD DN HD HG HU HX LS S WF YO",
    "UKF": "DE LE LN NG NN",
    "UKG": "B CV DY HR ST TF WR WS WV SY",
    "UKH": "AL CB CM CO IP LU NR PE SG SS WD EN",
    "UKI": "E EC N NW SE SW W WC BR CR HA IG RM SM UB TW",
    "UKJ": "BN CT GU HP ME MK OX PO RG RH SL SO TN KT DA",
    "UKK": "BA BH BS DT EX GL PL SN SP TA TQ TR",
    "UKL": "CF LD LL NP SA",
    "UKM": "AB DD DG EH FK G HS IV KA KW KY ML PA PH TD ZE",
    "UKN": "BT",
}.items():
    for _area in _areas.split():
        _AREA_TO_NUTS1[_area] = _code

# Districts that lie in a different region from the rest of their area.
_DISTRICT_OVERRIDES: dict[str, str] = {
    # Burton upon Trent and surrounds (Staffordshire) are West Midlands.
    **dict.fromkeys(("DE13", "DE14", "DE15"), "UKG"),
    # Chesterfield/NE Derbyshire and Worksop are East Midlands.
    **dict.fromkeys(("S40", "S41", "S42", "S43", "S44", "S45", "S80", "S81"), "UKF"),
    # High Peak (Derbyshire).
    **dict.fromkeys(("SK13", "SK17", "SK22", "SK23"), "UKF"),
    # Lincolnshire parts of the Peterborough area.
    **dict.fromkeys(
        ("PE9", "PE10", "PE11", "PE12", "PE20", "PE21", "PE22", "PE23", "PE24", "PE25"), "UKF"
    ),
    # Gainsborough (Lincolnshire) and Retford (Nottinghamshire).
    **dict.fromkeys(("DN21", "DN22"), "UKF"),
    # Flintshire and Powys parts of Chester and Shrewsbury areas.
    **dict.fromkeys(("CH5", "CH6", "CH7", "CH8"), "UKL"),
    **dict.fromkeys(tuple(f"SY{n}" for n in range(15, 26)), "UKL"),
    # London boroughs inside Kingston, Enfield and Dartford areas.
    **dict.fromkeys(("KT1", "KT2", "KT3", "KT4", "KT5", "KT6", "KT9"), "UKI"),
    **dict.fromkeys(("EN1", "EN2", "EN3", "EN4", "EN5"), "UKI"),
    **dict.fromkeys(("DA5", "DA6", "DA7", "DA8", "DA14", "DA15", "DA16", "DA17", "DA18"), "UKI"),
    # Staines to Sunbury are Surrey; Berwick and Cornhill are Northumberland.
    **dict.fromkeys(("TW15", "TW16", "TW17", "TW18", "TW19", "TW20"), "UKJ"),
    **dict.fromkeys(("TD12", "TD15"), "UKC"),
}

# Full postcode (outward + inward) or outward code alone; spaces optional.
_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2})([0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})?\b")
_FULL_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})\b")


def normalise_nuts_code(value: str) -> str | None:
    """``"ukf14"`` → ``"UKF14"``, ``"TLF14"`` → ``"UKF14"``; None if not a UK NUTS/ITL code."""
    code = value.strip().upper().replace(" ", "")
    if not _NUTS_RE.match(code):
        return None
    return "UK" + code[2:]


def normalise_region_name(name: str) -> list[str]:
    """Turn a region name *or* code into NUTS codes (``"East Midlands"`` → ``["UKF"]``).

    Used by the feed parser and by matchers to read subscribers' region
    preferences, so both sides agree. Unknown names give ``[]``.
    """
    text = " ".join(name.replace("_", " ").split()).strip(" .,;")
    if not text:
        return []
    code = normalise_nuts_code(text)
    if code is not None:
        return [code]
    key = text.lower().replace(" (england)", "")
    key = key.removeprefix("the ")
    return list(_BY_NAME.get(key, ()))


def normalise_postcode(value: str) -> str | None:
    """``"ng3 1ax"`` → ``"NG3 1AX"``; None when no full UK postcode is present."""
    match = _FULL_POSTCODE_RE.search(value.upper())
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def region_from_postcode(value: str) -> str | None:
    """The NUTS1 code of a UK postcode (``"LE1 1FZ"`` → ``"UKF"``), or None.

    Accepts a full postcode or an outward code (``"DE14"``); district
    exceptions (Burton's DE13–DE15 are West Midlands) win over the area.
    Crown dependencies (GY, JE, IM) and unknown areas give None.
    """
    match = _POSTCODE_RE.search(value.upper())
    if match is None:
        return None
    area, district_rest = match.group(1), match.group(2)
    district = area + re.sub(r"[A-Z]$", "", district_rest)
    if district in _DISTRICT_OVERRIDES:
        return _DISTRICT_OVERRIDES[district]
    return _AREA_TO_NUTS1.get(area)


def dedupe(codes: list[str]) -> tuple[str, ...]:
    """Keep first-seen order, drop repeats."""
    return tuple(dict.fromkeys(codes))
