"""UK regions: NUTS codes, their names, and the region filter.

Find a Tender gives NUTS codes ("UKF14"); Contracts Finder gives names ("East Midlands").
Profiles may use either. The newer ITL codes ("TLF14") are the same tree with another prefix,
so they are read as NUTS. Names come from the one NUTS table, ``feeds.regions``, so a
profile's "Nottinghamshire" reads the same way as a notice's.

Containment is by code prefix: a notice for the whole East Midlands (``UKF``) is of interest
to an enterprise in Nottingham (``UKF14``) and vice versa. A UK-wide or England-wide notice is
open to every English enterprise, so it passes unless the profile asks for local notices only.
"""

from __future__ import annotations

from feeds.regions import ENGLAND as ENGLISH_CODES
from feeds.regions import NUTS_NAMES, codes_for_name
from matchers.text import clean

__all__ = [
    "ENGLAND",
    "ENGLISH_REGIONS",
    "NUTS_NAMES",
    "describe",
    "expand",
    "is_national",
    "name_of",
    "region_pass",
    "to_code",
]

ENGLISH_REGIONS: frozenset[str] = frozenset(ENGLISH_CODES)

#: Pseudo-code for "all of England" (there is no NUTS code for it).
ENGLAND = "ENG"


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
    codes = codes_for_name(clean(text))
    if set(codes) == ENGLISH_REGIONS:
        return ENGLAND
    return codes[0] if len(codes) == 1 else None


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
