"""CPV (Common Procurement Vocabulary) codes: hierarchy, labels and suggestions.

A CPV code is eight digits (plus a check digit after a hyphen that feeds drop). The hierarchy
is carried by the *significant* digits: trailing zeros mean "everything beneath". So
``55500000`` (canteen and catering services) is the prefix ``555`` and covers ``55524000``
(school catering services). A profile may also type the prefix itself ("555").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from matchers.lexicon import synonyms
from matchers.text import STOPWORDS, tokenize

_CODE = re.compile(r"^\d{2,8}$")


def clean_code(code: str) -> str:
    """``"55524000-1"`` -> ``"55524000"``; whitespace removed."""
    return code.strip().split("-", 1)[0].replace(" ", "")


def is_valid_prefix(code: str) -> bool:
    """Two to eight digits (after dropping a check digit)."""
    return bool(_CODE.match(clean_code(code)))


def significant(code: str) -> str:
    """The significant digits of a code or prefix: ``55500000`` -> ``555``, never fewer than 2."""
    digits = clean_code(code)
    stripped = digits.rstrip("0")
    if len(stripped) < 2:
        stripped = digits[:2]
    return stripped


def covers(profile_code: str, notice_code: str) -> bool:
    """True when the profile's code is the notice's code or one of its ancestors."""
    return clean_code(notice_code).startswith(significant(profile_code))


@lru_cache(maxsize=1)
def labels() -> dict[str, str]:
    """8-digit code -> English label (CPV 2008)."""
    data = resources.files("matchers").joinpath("data/cpv_2008_en.json").read_text("utf-8")
    raw: dict[str, str] = json.loads(data)
    return {clean_code(k): v for k, v in raw.items()}


def label(code: str) -> str | None:
    """The label of an 8-digit code, or of the 8-digit code a prefix stands for."""
    digits = clean_code(code)
    return labels().get(digits.ljust(8, "0")[:8])


def describe(code: str) -> str:
    """``"CPV 55524000 School catering services"`` (label omitted when unknown)."""
    digits = clean_code(code)
    name = label(digits)
    return f"CPV {digits} {name}" if name else f"CPV {digits}"


@dataclass(frozen=True, slots=True)
class CpvSuggestion:
    code: str
    label: str


@lru_cache(maxsize=1)
def stem_counts() -> dict[str, int]:
    """How many CPV labels use each word stem: how common a word is in procurement text."""
    counts: dict[str, int] = {}
    for _code, _text, stems in _label_stems():
        for s in stems:
            counts[s] = counts.get(s, 0) + 1
    return counts


@lru_cache(maxsize=1)
def _label_stems() -> list[tuple[str, str, frozenset[str]]]:
    return [
        (code, text, frozenset(t.stem for t in tokenize(text) if t.lower not in STOPWORDS))
        for code, text in labels().items()
    ]


#: Suggestion order by contract type: social enterprises mostly sell services, and a
#: keyword's goods or works codes ("Catering equipment", "Horticultural and nursery
#: products") are seldom what they mean.
_KIND_ORDER = {"services": 0, "works": 1, "supplies": 2}


def suggest_cpv(word: str, limit: int = 8) -> list[CpvSuggestion]:
    """CPV codes whose label contains ``word`` (any inflection) or one of its synonyms.

    Ranked for a person choosing what they do: first the codes whose label says exactly what
    the word (or a synonym) says (``childcare`` -> 85312110 Child daycare services, through
    the synonym "child daycare"), then services before works before supplies, then labels
    with the word itself before those with a synonym, shorter labels and broader codes
    first. A label that uses the word only in another sense (:mod:`matchers.senses`:
    "Disaster recovery services" for ``recovery``) is left out. Used by the chat settings to
    turn "catering" into a list of codes to tick.
    """
    # both import this module: import at call time
    from matchers import inference
    from matchers.keywords import analyse, compile_keyword, find

    exact = {c.code for c in inference.infer(word).codes}
    queries = [word, *synonyms(word)]
    best: dict[str, tuple[bool, int, int, int, int, str]] = {}
    for rank, query in enumerate(queries):
        want = frozenset(t.stem for t in tokenize(query) if t.lower not in STOPWORDS)
        if not want:
            continue
        pattern = compile_keyword(query).variants[0].pattern
        for code, text, stems in _label_stems():
            # every word of the query, and not in another sense ("disaster recovery")
            if want <= stems and find(pattern, analyse(text)) is not None:
                kind = _KIND_ORDER.get(inference.contract_type(code) or "", 3)
                key = (code not in exact, kind, rank, len(stems), len(significant(code)), code)
                if code not in best or key < best[code]:
                    best[code] = key
    ordered = sorted(best.items(), key=lambda kv: kv[1])
    return [CpvSuggestion(code, labels()[code]) for code, _ in ordered[:limit]]
