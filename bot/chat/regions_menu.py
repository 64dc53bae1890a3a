"""The regions menu: East Midlands counties and cities as toggle buttons, plus "All East
Midlands" and "Anywhere in England". Pure functions over the profile's list of NUTS codes.

Choosing a county or city replaces the broad choices (picking "Derby" means "only Derby");
choosing "All East Midlands" replaces the counties; "Anywhere in England" replaces both.
Codes typed by hand for other regions (``/regions london``) are kept and listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.text import InputError, clean
from matchers import regions as nuts


@dataclass(frozen=True)
class Area:
    key: str  # in callback data
    name: str
    codes: tuple[str, ...]
    aliases: tuple[str, ...] = ()


AREAS: tuple[Area, ...] = (
    Area("db", "Derby", ("UKF11",), ("derby city",)),
    Area("dbs", "Derbyshire", ("UKF12", "UKF13"), ("derbys",)),
    Area("nt", "Nottingham", ("UKF14",), ("nottingham city",)),
    Area("nts", "Nottinghamshire", ("UKF15", "UKF16"), ("notts",)),
    Area("lc", "Leicester", ("UKF21",), ("leicester city",)),
    Area("lcs", "Leicestershire & Rutland", ("UKF22",), ("leicestershire", "rutland", "leics")),
    Area(
        "nh",
        "Northamptonshire",
        ("UKF24", "UKF25"),
        ("northampton", "northants", "west northamptonshire", "north northamptonshire"),
    ),
    Area("ln", "Lincolnshire", ("UKF30",), ("lincoln", "lincs")),
)
ALL_EM = Area(
    "em", "All East Midlands", ("UKF",), ("east midlands", "all", "em", "all east midlands")
)
ENGLAND = Area(
    "en",
    "Anywhere in England",
    (nuts.ENGLAND,),
    ("england", "anywhere", "everywhere", "anywhere in england"),
)
EVERY_AREA: tuple[Area, ...] = (*AREAS, ALL_EM, ENGLAND)
BY_KEY = {a.key: a for a in EVERY_AREA}
_LOCAL = frozenset(c for a in AREAS for c in a.codes)

REGIONS_HINT = (
    "Type e.g. /regions leicestershire, derby — or /regions all (all East Midlands), "
    "/regions england. Areas: " + ", ".join(a.name for a in AREAS) + "."
)


def _norm(text: str) -> str:
    return " ".join(clean(text).casefold().replace("&", " and ").replace("-", " ").split())


def selected(regions: list[str], area: Area) -> bool:
    return all(code in regions for code in area.codes)


def toggle(regions: list[str], key: str) -> list[str]:
    """The regions after pressing the button for ``key`` (unknown keys change nothing)."""
    area = BY_KEY.get(key)
    if area is None:
        return list(regions)
    if selected(regions, area):
        return [c for c in regions if c not in area.codes]
    if area is ENGLAND:
        return [nuts.ENGLAND]
    if area is ALL_EM:
        return [c for c in regions if not c.startswith("UKF") and c != nuts.ENGLAND] + ["UKF"]
    kept = [c for c in regions if c not in ("UKF", nuts.ENGLAND)]
    return kept + [c for c in area.codes if c not in kept]


def _covers(have: str, code: str) -> bool:
    if have == nuts.ENGLAND:
        return code[:3] in nuts.ENGLISH_REGIONS
    return code.startswith(have)


def add(regions: list[str], codes: list[str]) -> list[str]:
    """``regions`` with ``codes`` added (``/regions derby`` adds Derby, as /add adds a
    keyword): a code already covered by a wider one changes nothing, and a wider code
    replaces the narrower ones it covers. "Anywhere in England" replaces everything."""
    if nuts.ENGLAND in codes:
        return [nuts.ENGLAND]
    out = list(regions)
    for code in codes:
        if any(_covers(have, code) for have in out):
            continue
        out = [c for c in out if not _covers(code, c)] + [code]
    return out


def names(regions: list[str]) -> str:
    """``Derby, Lincolnshire`` for the codes (menu names first, others by NUTS name)."""
    if not regions:
        return "anywhere (no area filter)"
    shown: list[str] = []
    rest = list(regions)
    for area in EVERY_AREA:
        if selected(rest, area):
            shown.append(area.name)
            rest = [c for c in rest if c not in area.codes]
    shown.extend(nuts.NUTS_NAMES.get(c, c) for c in rest)
    return ", ".join(shown)


def _lookup(word: str) -> tuple[str, ...] | None:
    key = _norm(word)
    if not key:
        return None
    for area in EVERY_AREA:
        if key == _norm(area.name) or key in area.aliases or key == area.key:
            return area.codes
    code = nuts.to_code(word)
    if code is not None and (code in nuts.NUTS_NAMES or code == nuts.ENGLAND):
        return (code,)
    return None


def parse_typed(args: str) -> list[str]:
    """``leicestershire, derby`` -> their codes; raises :class:`InputError` naming the
    unknown ones."""
    words = [w for w in clean(args).replace(";", ",").replace(" and ", ",").split(",") if w.strip()]
    if not words:
        raise InputError(REGIONS_HINT)
    if len(words) > 20:
        raise InputError("That's a lot of areas: give at most 20. " + REGIONS_HINT)
    codes: list[str] = []
    unknown: list[str] = []
    for word in words:
        found = _lookup(word)
        if found is None:
            unknown.append(word)
            continue
        codes.extend(c for c in found if c not in codes)
    if unknown:
        listed = ", ".join(f"“{clean(w)[:30]}”" for w in unknown[:5])
        raise InputError(f"I don't know {listed}. {REGIONS_HINT}")
    if nuts.ENGLAND in codes:
        return [nuts.ENGLAND]
    if "UKF" in codes:
        codes = [c for c in codes if c == "UKF" or c not in _LOCAL]
    return codes
