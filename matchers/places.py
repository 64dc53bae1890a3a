"""Where an enquiry comes from: East Midlands places and postcode districts -> region names.

Region names are the ones SEEM's adviser roster uses: the cities Nottingham, Derby and
Leicester, and the counties Nottinghamshire, Derbyshire, Leicestershire, Rutland, Lincolnshire
and Northamptonshire ("Lincoln" and the Northamptonshire towns map to their county). Places
just outside the region (Burton upon Trent, Sheffield, Peterborough, North Lincolnshire...) are
known too, so that "Burton DE14" says "not East Midlands" instead of matching "Derby"-ish
guesses. Postcode districts straddle boundaries; the mapping follows where most of a district
lies. Pure: stdlib only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NOTTINGHAM = "Nottingham"
NOTTS = "Nottinghamshire"
DERBY = "Derby"
DERBYS = "Derbyshire"
LEICESTER = "Leicester"
LEICS = "Leicestershire"
RUTLAND = "Rutland"
LINCS = "Lincolnshire"
NORTHANTS = "Northamptonshire"
EAST_MIDLANDS = "East Midlands"
OUTSIDE = ""
"""Marker for a place known to be outside the East Midlands."""

REGIONS: tuple[str, ...] = (
    NOTTINGHAM,
    NOTTS,
    DERBY,
    DERBYS,
    LEICESTER,
    LEICS,
    RUTLAND,
    LINCS,
    NORTHANTS,
)

PARENT: dict[str, str] = {NOTTINGHAM: NOTTS, DERBY: DERBYS, LEICESTER: LEICS}
"""City -> the county it sits in, for "close enough" region matching."""

_PLACES: dict[str, str] = {
    # Nottinghamshire
    "nottingham": NOTTINGHAM,
    "nottingham city": NOTTINGHAM,
    "nottinghamshire": NOTTS,
    "notts": NOTTS,
    "worksop": NOTTS,
    "mansfield": NOTTS,
    "mansfield woodhouse": NOTTS,
    "newark": NOTTS,
    "newark on trent": NOTTS,
    "retford": NOTTS,
    "sutton in ashfield": NOTTS,
    "kirkby in ashfield": NOTTS,
    "ashfield": NOTTS,
    "hucknall": NOTTS,
    "beeston": NOTTS,
    "west bridgford": NOTTS,
    "bingham": NOTTS,
    "southwell": NOTTS,
    "ollerton": NOTTS,
    "eastwood": NOTTS,
    "stapleford": NOTTS,
    "bassetlaw": NOTTS,
    "gedling": NOTTS,
    "rushcliffe": NOTTS,
    "broxtowe": NOTTS,
    "warsop": NOTTS,
    "clipstone": NOTTS,
    "cotgrave": NOTTS,
    "ruddington": NOTTS,
    "keyworth": NOTTS,
    "radcliffe on trent": NOTTS,
    "harworth": NOTTS,
    "bulwell": NOTTINGHAM,
    "sneinton": NOTTINGHAM,
    "hyson green": NOTTINGHAM,
    "st ann s": NOTTINGHAM,
    "clifton": NOTTINGHAM,
    # Derbyshire
    "derby": DERBY,
    "derby city": DERBY,
    "derbyshire": DERBYS,
    "chesterfield": DERBYS,
    "buxton": DERBYS,
    "glossop": DERBYS,
    "matlock": DERBYS,
    "belper": DERBYS,
    "ilkeston": DERBYS,
    "long eaton": DERBYS,
    "swadlincote": DERBYS,
    "alfreton": DERBYS,
    "heanor": DERBYS,
    "bolsover": DERBYS,
    "dronfield": DERBYS,
    "ashbourne": DERBYS,
    "bakewell": DERBYS,
    "staveley": DERBYS,
    "clay cross": DERBYS,
    "high peak": DERBYS,
    "amber valley": DERBYS,
    "erewash": DERBYS,
    "south derbyshire": DERBYS,
    "north east derbyshire": DERBYS,
    "derbyshire dales": DERBYS,
    "shirebrook": DERBYS,
    "killamarsh": DERBYS,
    "chapel en le frith": DERBYS,
    "new mills": DERBYS,
    "wirksworth": DERBYS,
    "peak district": DERBYS,
    "hope valley": DERBYS,
    "mickleover": DERBY,
    "alvaston": DERBY,
    "chaddesden": DERBY,
    # Leicestershire and Rutland
    "leicester": LEICESTER,
    "leicester city": LEICESTER,
    "leicestershire": LEICS,
    "leics": LEICS,
    "loughborough": LEICS,
    "hinckley": LEICS,
    "coalville": LEICS,
    "melton": LEICS,
    "melton mowbray": LEICS,
    "market harborough": LEICS,
    "lutterworth": LEICS,
    "wigston": LEICS,
    "oadby": LEICS,
    "ashby de la zouch": LEICS,
    "shepshed": LEICS,
    "syston": LEICS,
    "birstall": LEICS,
    "blaby": LEICS,
    "charnwood": LEICS,
    "harborough": LEICS,
    "castle donington": LEICS,
    "kegworth": LEICS,
    "ibstock": LEICS,
    "measham": LEICS,
    "north west leicestershire": LEICS,
    "braunstone": LEICESTER,
    "rutland": RUTLAND,
    "oakham": RUTLAND,
    "uppingham": RUTLAND,
    # Lincolnshire
    "lincolnshire": LINCS,
    "lincs": LINCS,
    "lincoln": LINCS,
    "grantham": LINCS,
    "boston": LINCS,
    "skegness": LINCS,
    "spalding": LINCS,
    "stamford": LINCS,
    "louth": LINCS,
    "sleaford": LINCS,
    "gainsborough": LINCS,
    "mablethorpe": LINCS,
    "horncastle": LINCS,
    "market rasen": LINCS,
    "holbeach": LINCS,
    "woodhall spa": LINCS,
    "north kesteven": LINCS,
    "south kesteven": LINCS,
    "east lindsey": LINCS,
    "west lindsey": LINCS,
    "south holland": LINCS,
    "market deeping": LINCS,
    "deeping st james": LINCS,
    "bourne": LINCS,
    # Northamptonshire
    "northamptonshire": NORTHANTS,
    "northants": NORTHANTS,
    "northampton": NORTHANTS,
    "kettering": NORTHANTS,
    "corby": NORTHANTS,
    "wellingborough": NORTHANTS,
    "daventry": NORTHANTS,
    "rushden": NORTHANTS,
    "brackley": NORTHANTS,
    "towcester": NORTHANTS,
    "raunds": NORTHANTS,
    "oundle": NORTHANTS,
    "desborough": NORTHANTS,
    "burton latimer": NORTHANTS,
    "thrapston": NORTHANTS,
    "irthlingborough": NORTHANTS,
    "higham ferrers": NORTHANTS,
    "north northamptonshire": NORTHANTS,
    "west northamptonshire": NORTHANTS,
    # just outside: recognised so that they are not mistaken for the region
    "burton": OUTSIDE,
    "burton upon trent": OUTSIDE,
    "burton on trent": OUTSIDE,
    "north lincolnshire": OUTSIDE,
    "north east lincolnshire": OUTSIDE,
    "scunthorpe": OUTSIDE,
    "grimsby": OUTSIDE,
    "sheffield": OUTSIDE,
    "rotherham": OUTSIDE,
    "doncaster": OUTSIDE,
    "peterborough": OUTSIDE,
    "tamworth": OUTSIDE,
    "coventry": OUTSIDE,
    "birmingham": OUTSIDE,
    "stoke": OUTSIDE,
    "milton keynes": OUTSIDE,
    "london": OUTSIDE,
    "manchester": OUTSIDE,
}

_MAX_PLACE_WORDS = max(len(name.split()) for name in _PLACES)

_STREET_WORDS = frozenset(
    {
        "road",
        "rd",
        "street",
        "st",
        "lane",
        "ln",
        "way",
        "avenue",
        "ave",
        "drive",
        "close",
        "terrace",
        "crescent",
        "place",
        "square",
        "hill",
        "gate",
        "row",
        "walk",
        "grove",
        "university",
        "uni",
        "college",
        "forest",
        "county",
        "city",
        "fc",
        "station",
        "airport",
    }
)
"""A place followed by one of these ("Derby Road", "Nottingham Forest") is not where you are."""

_BASE_CUES = (
    "based in",
    "based at",
    "based near",
    "based out of",
    "located in",
    "we are in",
    "we re in",
    "i m in",
    "i am in",
    "from",
    "in",
    "near",
    "around",
    "across",
    "covering",
    "cover",
    "serving",
)
"""Words before a place that say "this is where we are" (weigh more than a passing mention)."""

_BUYER_CUES = ("council", "county council", "city council", "borough council", "district council")


def _postcode_region(area: str, district: int, suffix: str) -> str | None:
    """Region of an outward postcode ("S80", "DE14"); OUTSIDE if known to be outside; None if
    the area is not one we know."""
    if area == "NG":
        if 1 <= district <= 8 or district == 11:
            return NOTTINGHAM
        if district == 10:
            return DERBYS
        if 9 <= district <= 25:
            return NOTTS
        if 31 <= district <= 34:
            return LINCS
        return None
    if area == "DE":
        if district in (1, 3, 21, 22, 23, 24):
            return DERBY
        if district in (13, 14, 15):
            return OUTSIDE  # Burton upon Trent and around: Staffordshire
        if district in (12, 74):
            return LEICS
        if 1 <= district <= 99:
            return DERBYS
        return None
    if area == "LE":
        if 1 <= district <= 5:
            return LEICESTER
        if district == 15:
            return RUTLAND
        return LEICS
    if area == "LN":
        return LINCS
    if area == "NN":
        return NORTHANTS
    if area == "PE":
        if district in (9, 10, 11, 12) or 20 <= district <= 25:
            return LINCS
        if district == 8:
            return NORTHANTS
        return OUTSIDE  # Peterborough, Cambridgeshire, Norfolk
    if area == "S":
        if district in (80, 81):
            return NOTTS
        if district in (18, 21, 32, 33) or 40 <= district <= 45:
            return DERBYS
        return OUTSIDE  # Sheffield, Rotherham
    if area == "DN":
        if district == 21:
            return LINCS
        if district in (10, 22):
            return NOTTS
        return OUTSIDE  # Doncaster, North and North East Lincolnshire
    if area == "SK":
        if district in (13, 17, 22, 23):
            return DERBYS
        return OUTSIDE
    if area in ("B", "CV", "ST", "WS", "MK", "M", "WF", "HU", "LS"):
        return OUTSIDE
    return None


_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2})(\d{1,2})([A-Za-z]?)(?:\s*(\d[A-Za-z]{2}))?(?![A-Za-z0-9])"
)


@dataclass(frozen=True)
class RegionHit:
    """One piece of evidence for a region: what was seen, where, and how strongly."""

    region: str
    """A region name, or "" (OUTSIDE) for a place outside the East Midlands."""
    evidence: str
    """What the text said ("S80", "Worksop")."""
    strength: float
    position: int


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2019", "'")


def postcode_hits(text: str) -> list[RegionHit]:
    """Postcodes in the text. A full postcode counts more than a bare district ("NG7")."""
    hits: list[RegionHit] = []
    for m in _POSTCODE.finditer(text):
        area, digits, letter, inward = m.group(1), m.group(2), m.group(3), m.group(4)
        if area.upper() != area and not inward:
            continue  # "s80" alone in lower case is too weak; "ng7 2aa" is fine
        if letter and area.upper() not in ("NG", "DE", "LE", "LN", "NN", "PE", "S", "DN", "SK"):
            continue
        if letter and not inward:
            continue  # "S4C", "B2B"...: only with the inward part
        region = _postcode_region(area.upper(), int(digits), letter)
        if region is None:
            continue
        if len(area) == 1 and not inward and area.upper() != "S":
            continue
        strength = 4.0 if inward else 2.5
        evidence = f"{area.upper()}{digits}{letter.upper()}"
        hits.append(RegionHit(region, evidence, strength, m.start()))
    return hits


_WORD = re.compile(r"[a-z0-9]+")


def place_hits(text: str) -> list[RegionHit]:
    """Place names in the text, weighted by how much they look like the sender's base."""
    lowered = _normalise(text).lower()
    words = [(m.group(0), m.start()) for m in _WORD.finditer(lowered)]
    tokens = [w for w, _ in words]
    hits: list[RegionHit] = []
    i = 0
    while i < len(tokens):
        found = None
        for n in range(min(_MAX_PLACE_WORDS, len(tokens) - i), 0, -1):
            name = " ".join(tokens[i : i + n])
            if name in _PLACES:
                found = (name, n)
                break
        if found is None:
            i += 1
            continue
        name, n = found
        after = tokens[i + n] if i + n < len(tokens) else ""
        before = " ".join(tokens[max(0, i - 3) : i])
        if after in _STREET_WORDS and not (after == "city" and name in ("leicester", "derby")):
            strength = 0.3
        elif any(before.endswith(cue) for cue in _BASE_CUES[:9]):
            strength = 3.0
        elif any(before.endswith(cue) for cue in _BASE_CUES[9:]):
            strength = 2.0
        else:
            strength = 1.0
        if after == "council" or any(
            " ".join(tokens[i + n : i + n + 2]).startswith(cue) for cue in _BUYER_CUES
        ):
            strength = 0.5  # "Derbyshire County Council": the buyer, not the sender
        hits.append(RegionHit(_PLACES[name], name, strength, words[i][1]))
        i += n
    return hits


def region_hits(text: str) -> list[RegionHit]:
    """All region evidence in the text, postcodes and places, in order of position."""
    return sorted(postcode_hits(text) + place_hits(text), key=lambda h: h.position)


def best_region(text: str) -> tuple[str | None, RegionHit | None]:
    """The most likely home region of the sender and the evidence for it.

    Evidence is summed per region; a known place outside the East Midlands competes like any
    region and, if it wins, the answer is None. Ties go to the earliest mention.
    """
    hits = region_hits(text)
    if not hits:
        return None, None
    totals: dict[str, float] = {}
    first: dict[str, RegionHit] = {}
    for hit in hits:
        # a city and its county support each other a little
        totals[hit.region] = totals.get(hit.region, 0.0) + hit.strength
        parent = PARENT.get(hit.region)
        if parent is not None:
            totals[parent] = totals.get(parent, 0.0) + hit.strength * 0.25
        best = first.get(hit.region)
        if best is None or hit.strength > best.strength:
            first[hit.region] = hit
    order = {h.region: h.position for h in reversed(hits)}
    winner = max(totals, key=lambda r: (totals[r], r in first, -order.get(r, 1 << 30)))
    if winner not in first:
        # a county that only won through its city's mentions: report the city
        cities = [c for c, p in PARENT.items() if p == winner and c in first]
        winner = max(cities, key=lambda c: totals[c])
    hit = first[winner]
    if winner == OUTSIDE:
        return None, hit
    return winner, hit


def canonical_region(name: str) -> str | None:
    """A region name as the roster spells it ("notts" -> "Nottinghamshire"), else None."""
    key = " ".join(_WORD.findall(_normalise(name).lower()))
    if key in ("east midlands", "em"):
        return EAST_MIDLANDS
    region = _PLACES.get(key)
    if region:
        return region
    for known in REGIONS:
        if known.lower() == key:
            return known
    return None
