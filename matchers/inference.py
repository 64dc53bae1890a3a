"""What a keyword means in CPV terms, and what kind of contract a notice is.

Buyers classify every notice with CPV codes, and the CPV labels are the procurement
vocabulary. Two general uses of them, computed from the bundled CPV 2008 list only:

* **Keyword -> CPV.** A keyword names the same thing as a CPV label when the label's content
  words, after dropping words every label carries ("services", "works", "and related items",
  "other", "miscellaneous"), are exactly the keyword's content words (stems), or those of one of
  its lexicon synonyms: "security guarding" (synonym "security services") -> ``79710000
  Security services``; "printing" -> ``79810000 Printing services``; "signage" -> ``34928470
  Signage``. A notice classified under such a code (or beneath it) is about what the keyword
  says even when its words differ. Labels are compared by equality, never by containment: a
  label that only shares a word ("Domestic services" for "domestic abuse", "Designs" for
  "graphic design") says something else. Goods words ("equipment", "goods", "products",
  "supplies") are kept, so "Sports goods and equipment" is not "sport".
* **Contract type.** CPV division 45 is works, divisions 03-44 and 48 (software packages) are
  supplies, 50-98 are services. A works or supplies notice whose codes are all outside every
  division the keyword's labels name is about an object (a building, a product), and a service
  word in it is context ("construction of a leisure centre", "cleaning products").

Everything is computed once per keyword text and cached (no dependence on which other profiles
exist), so the index and the brute-force reference see the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matchers import cpv as cpv_codes
from matchers.lexicon import synonyms
from matchers.text import STOPWORDS, tokenize, tokenize_phrase

#: Words that every kind of label carries and that say nothing about *what* is bought.
GENERIC_LABEL_WORDS: frozenset[str] = frozenset(
    [
        "service",
        "services",
        "work",
        "works",
        "other",
        "various",
        "miscellaneous",
        "general",
        "package",  # "Content management software package"
    ]
)
#: Parentheses in a label hold an abbreviation or a qualifier: "World wide web (www) site
#: design services", "Furniture (incl. office furniture)...".
_PARENTHESES = re.compile(r"\([^)]*\)")

#: "X and related services", "sport-related services": "related" and the word after it go.
_RELATED = "related"

WORKS = "works"
SUPPLIES = "supplies"
SERVICES = "services"


def contract_type(code: str) -> str | None:
    """``works`` (division 45), ``supplies`` (03-44, 48), ``services`` (50-98), else None."""
    digits = cpv_codes.clean_code(code)
    if len(digits) < 2 or not digits[:2].isdigit():
        return None
    division = int(digits[:2])
    if division == 45:
        return WORKS
    if 3 <= division <= 44 or division == 48:
        return SUPPLIES
    if 50 <= division <= 98:
        return SERVICES
    return None


def _content(text: str, *, label: bool) -> frozenset[str]:
    tokens = tokenize(_PARENTHESES.sub(" ", text)) if label else tokenize_phrase(text)
    out: set[str] = set()
    skip_next = False
    for tok in tokens:
        if skip_next:
            skip_next = False
            continue
        low = tok.lower
        if low in STOPWORDS:
            continue
        if label and low == _RELATED:
            skip_next = True
            continue
        if low in GENERIC_LABEL_WORDS:
            continue
        out.add(tok.surface if tok.surface.isupper() and len(tok.surface) > 1 else tok.stem)
    return frozenset(out)


@lru_cache(maxsize=1)
def _labels_by_content() -> dict[frozenset[str], tuple[str, ...]]:
    table: dict[frozenset[str], list[str]] = {}
    for code, text in cpv_codes.labels().items():
        key = _content(text, label=True)
        if key:
            table.setdefault(key, []).append(code)
    return {k: tuple(sorted(v)) for k, v in table.items()}


@dataclass(frozen=True, slots=True)
class InferredCode:
    """A CPV code that says what a keyword says, and which name of the keyword said it."""

    prefix: str  # significant digits
    code: str  # 8 digits
    source: str  # the keyword or the synonym whose words equal the label's


@dataclass(frozen=True, slots=True)
class Inference:
    codes: tuple[InferredCode, ...]
    divisions: frozenset[str]  # two-digit divisions of every inferred code

    @property
    def known(self) -> bool:
        return bool(self.codes)


NO_INFERENCE = Inference((), frozenset())


#: Division- and group-level codes ("80000000 Education and training services", "39200000
#: Furnishing", which gathers kitchen equipment and catering supplies) are too broad to make a
#: match on their own: a code needs four significant digits (class level). Broader codes
#: still count for the contract-type test.
MIN_PREFIX = 4
#: Labels are compared with the keyword and with each of its lexicon synonyms.
INFER_FROM_SYNONYMS = True


@lru_cache(maxsize=200_000)
def infer(text: str) -> Inference:
    """The CPV codes whose labels name what ``text`` (a keyword as typed) names."""
    table = _labels_by_content()
    found: dict[str, InferredCode] = {}
    for query in (text, *synonyms(text)) if INFER_FROM_SYNONYMS else (text,):
        key = _content(query, label=False)
        if not key:
            continue
        for code in table.get(key, ()):
            if code not in found:
                found[code] = InferredCode(cpv_codes.significant(code), code, query)
    codes = tuple(found[c] for c in sorted(found))
    return Inference(codes, frozenset(c.code[:2] for c in codes))


def notice_compatible(inference: Inference, notice_codes: tuple[str, ...]) -> bool:
    """May a word hit count in a notice with these CPV codes?

    Yes when the notice has no code, when one of its codes is a service, or when one of its
    (works or supplies) codes is in a division the keyword's own CPV labels name.
    """
    if not notice_codes:
        return True
    for code in notice_codes:
        kind = contract_type(code)
        if kind is None or kind == SERVICES:
            return True
        if code[:2] in inference.divisions:
            return True
        if SOFTWARE_FAMILY and code[:2] == "48" and "72" in inference.divisions:
            return True
    return False


#: Software packages (48) are bought with the IT services (72) that build and run them, and
#: buyers file the same contract under either: an IT-service keyword may hit a 48 notice.
SOFTWARE_FAMILY = True


@lru_cache(maxsize=1)
def _label_titles() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for code, text in cpv_codes.labels().items():
        key = tuple(t.lower for t in tokenize(text))
        if key:
            table.setdefault(key, code)
    return table


def title_label(words: tuple[str, ...]) -> str | None:
    """The CPV code whose label the title is, word for word (a category, not a description)."""
    return _label_titles().get(words)
