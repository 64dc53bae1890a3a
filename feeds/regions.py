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
from collections.abc import Mapping
from typing import Any

from feeds.fields import as_dict, as_list, dicts, text

#: The one table of NUTS codes and names in bestbot: level 1 for the whole UK, level 2
#: everywhere and level 3 for the East Midlands (the region bestbot was built for). The
#: feed parser and the matchers (profiles' region preferences, reasons) both read it.
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
NUTS1_NAMES: dict[str, str] = {code: name for code, name in NUTS_NAMES.items() if len(code) == 3}
ENGLAND: tuple[str, ...] = ("UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK")

#: Other names people and feeds use for an area (keys as :func:`region_key` makes them).
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "north east england": ("UKC",),
    "north east of england": ("UKC",),
    "north west england": ("UKD",),
    "north west of england": ("UKD",),
    "yorkshire and humber": ("UKE",),
    "yorkshire": ("UKE",),
    "midlands": ("UKF", "UKG"),
    "eastern": ("UKH",),
    "east": ("UKH",),
    "greater london": ("UKI",),
    "south east england": ("UKJ",),
    "south east of england": ("UKJ",),
    "south west england": ("UKK",),
    "south west of england": ("UKK",),
    "cymru": ("UKL",),
    "england": ENGLAND,
    "great britain": ("UK",),
    "uk": ("UK",),
    "gb": ("UK",),
    "uk wide": ("UK",),
    "national": ("UK",),
    # East Midlands counties, which people name more often than the NUTS areas.
    "nottinghamshire": ("UKF1",),
    "derbyshire": ("UKF1",),
    "leicestershire": ("UKF2",),
    "northamptonshire": ("UKF2",),
    "rutland": ("UKF22",),
}


def region_key(name: str) -> str:
    """A place name reduced for lookup: case, ``&``, hyphens, ``(England)``, "the" ignored."""
    key = name.casefold().replace("&", " and ").replace("-", " ").replace("_", " ")
    key = " ".join(key.split()).strip(" .,;")
    return key.replace(" (england)", "").removeprefix("the ")


def _build_by_name() -> dict[str, tuple[str, ...]]:
    # A name used at two levels (Lincolnshire) keeps the later, finer code.
    table: dict[str, tuple[str, ...]] = {
        region_key(name): (code,) for code, name in NUTS_NAMES.items()
    }
    table.update(REGION_ALIASES)
    return table


_BY_NAME: dict[str, tuple[str, ...]] = _build_by_name()
_NUTS_RE = re.compile(r"^(?:UK|TL)([C-N](?:[0-9A-Z]{1,3})?)?$")


def codes_for_name(name: str) -> tuple[str, ...]:
    """NUTS codes for a place *name* (``"East Midlands"`` → ``("UKF",)``); () when unknown."""
    return _BY_NAME.get(region_key(name), ())


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
    cleaned = " ".join(name.replace("_", " ").split()).strip(" .,;")
    if not cleaned:
        return []
    code = normalise_nuts_code(cleaned)
    if code is not None:
        return [code]
    return list(codes_for_name(cleaned))


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


def location_codes(location: Mapping[str, Any]) -> list[str]:
    """OCDS location extension: ``gazetteer: {scheme: NUTS, identifiers: [...]}``."""
    gazetteer = as_dict(location.get("gazetteer"))
    scheme = (text(gazetteer.get("scheme")) or "").upper()
    if scheme not in ("NUTS", "ITL", ""):
        return []
    codes = []
    for identifier in as_list(gazetteer.get("identifiers")):
        code = normalise_nuts_code(identifier) if isinstance(identifier, str) else None
        if code:
            codes.append(code)
    return codes


def _codes_from_region_value(value: Any) -> list[str]:
    name = text(value)
    return normalise_region_name(name) if name else []


def delivery_regions(items: list[dict[str, Any]]) -> list[str]:
    """NUTS codes of OCDS items' delivery addresses (region, or "United Kingdom") and locations."""
    codes: list[str] = []
    for item in items:
        for address in dicts(item.get("deliveryAddresses")):
            codes.extend(_codes_from_region_value(address.get("region")))
            if not text(address.get("region")):
                country = text(address.get("countryName")) or text(address.get("country"))
                if country and country.lower() in ("united kingdom", "uk", "gb"):
                    codes.append("UK")
        locations = dicts(item.get("deliveryLocations"))
        locations.extend(dicts([item.get("deliveryLocation")]))
        for location in locations:
            codes.extend(location_codes(location))
    return codes


def delivery_postcodes(items: list[dict[str, Any]]) -> list[str]:
    return [
        postcode
        for item in items
        for address in dicts(item.get("deliveryAddresses"))
        if (postcode := text(address.get("postalCode")))
    ]


def regions_of(items: list[dict[str, Any]], buyer_address: Mapping[str, Any]) -> tuple[str, ...]:
    """Delivery regions, else delivery postcodes, else the buyer's region or postcode."""
    codes = delivery_regions(items)
    if not codes:
        codes = [c for p in delivery_postcodes(items) if (c := region_from_postcode(p))]
    if not codes:
        codes = _codes_from_region_value(buyer_address.get("region"))
    if not codes:
        postcode = text(buyer_address.get("postalCode"))
        code = region_from_postcode(postcode) if postcode else None
        codes = [code] if code else []
    return dedupe(codes)


def dedupe(codes: list[str]) -> tuple[str, ...]:
    """Keep first-seen order, drop repeats."""
    return tuple(dict.fromkeys(codes))
