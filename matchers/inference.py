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
from matchers.senses import sense_words
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


@lru_cache(maxsize=4096)
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


# --- the profile as one trade ----------------------------------------------------------------

#: A profile's trade is gathered at class level: four significant digits ("8051" Staff
#: training services, "4878" Content management software). Finer codes are cut back to their
#: class; broader ones (divisions, groups) do not count.
TRADE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Trade:
    """What a profile's keywords, read together, say its trade is in CPV terms.

    ``classes`` are class-level prefixes (four digits) of every code inferred from any of its
    keywords and of its explicit codes; ``divisions`` their two-digit divisions (broader
    inferred codes included); ``kinds`` the contract types of those divisions, plus
    ``services`` when some keyword names no label (such a keyword is taken as a service).
    """

    classes: frozenset[str]
    divisions: frozenset[str]
    kinds: frozenset[str]

    @property
    def known(self) -> bool:
        return bool(self.divisions)


NO_TRADE = Trade(frozenset(), frozenset(), frozenset())


@lru_cache(maxsize=100_000)
def trade(inferences: tuple[Inference, ...], explicit: tuple[str, ...] = ()) -> Trade:
    """The union of what all of a profile's keywords (and its own CPV prefixes) name."""
    classes: set[str] = set()
    divisions: set[str] = set()
    kinds: set[str] = set()
    for inf in inferences:
        if not inf.known:
            kinds.add(SERVICES)
        for c in inf.codes:
            divisions.add(c.code[:2])
            if len(c.prefix) >= TRADE_DIGITS:
                classes.add(c.prefix[:TRADE_DIGITS])
    for prefix in explicit:
        if len(prefix) >= 2:
            divisions.add(prefix[:2])
        if len(prefix) >= TRADE_DIGITS:
            classes.add(prefix[:TRADE_DIGITS])
    for division in divisions:
        kind = contract_type(division)
        if kind is not None:
            kinds.add(kind)
    return Trade(frozenset(classes), frozenset(divisions), frozenset(kinds))


# --- how ambiguous a word is -----------------------------------------------------------------

#: A word whose stem occurs in CPV labels of this many divisions names things in many trades
#: ("training": 13 divisions, "printing": 9, "sport": 7). Measured as an ambiguity test and
#: not kept (docs/matching.md): the label spread says which *goods* a word appears in, not
#: which senses it has. None: only the words of :mod:`matchers.senses` are ambiguous.
AMBIGUOUS_DIVISIONS: int | None = None


@lru_cache(maxsize=1)
def _stem_divisions() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for code, text in cpv_codes.labels().items():
        for tok in tokenize(_PARENTHESES.sub(" ", text)):
            if tok.lower not in STOPWORDS and tok.lower not in GENERIC_LABEL_WORDS:
                table.setdefault(tok.stem, set()).add(code[:2])
    return {k: frozenset(v) for k, v in table.items()}


def label_divisions(word_stem: str) -> frozenset[str]:
    """The CPV divisions whose labels use this stem."""
    return _stem_divisions().get(word_stem, frozenset())


@lru_cache(maxsize=50_000)
def ambiguous(word_stem: str) -> bool:
    """Does one word name things in several trades? It does when :mod:`matchers.senses` lists
    another sense of it ("recovery", "advice", "parenting", "website", "printing"): the listed
    phrases catch the known other senses, and a bare occurrence may still be one we did not
    list. (Optionally also when CPV labels use it in ``AMBIGUOUS_DIVISIONS`` divisions.)"""
    if word_stem in sense_words():
        return True
    spread = AMBIGUOUS_DIVISIONS
    return spread is not None and len(label_divisions(word_stem)) >= spread
