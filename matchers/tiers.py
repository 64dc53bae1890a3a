"""The second tier: notices worth a look ("maybe") that the sure rules do not alert.

An instant alert must be right, so :func:`matchers.rules.evaluate` stays strict. What it
turns down is not all wrong: about half of the relevant notices it misses on trades it was
never tuned for contain the keyword but a precision rule vetoed it, and many more use a
related wording or are filed under a CPV class the keyword's labels name. Those go to the
``maybe`` tier: a digest's "you might also consider" section, never an instant alert, each
with reasons that say which source found it:

* **vetoed** – a keyword (or a synonym) is there, but a precision rule distrusts it: further
  down the description, one word only, in a works or supplies notice, in a CPV category title,
  or a word with another sense and nothing to back it;
* **related** – a wording from the CPV labels of the keyword's family
  (``related: “festival organisation” (CPV 79953000)``, :mod:`matchers.links`);
* **class** – the notice is filed under a CPV class the keyword's labels (or the bundled
  notices' titles) link it to.

The weaker sources (related wording, class links) need a second signal: the enterprise's own
**description** (:attr:`matchers.profile.Profile.description`) must be like the notice (TF-IDF
cosine over the notice's title and description), or the related wording's words must be words
of that description. The description is never searched as a keyword.

Pure and deterministic, shared by the index and the brute-force reference like
:func:`matchers.rules.evaluate`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from matchers import cpv as cpv_codes
from matchers import inference, rules
from matchers import regions as region_codes
from matchers.keywords import Keyword, Pattern, _words_pattern
from matchers.links import Links, document_frequencies, links
from matchers.profile import Profile
from matchers.rules import CompiledProfile, Document, HitFinder, Match
from matchers.text import STOPWORDS, clean, stem, strip_accents

ALERT = "alert"
MAYBE = "maybe"
TIERS = (ALERT, MAYBE)

#: Sources of the maybe tier, switchable for the evaluation (``eval_matching.py --ablate``).
VETOED = True
RELATED = True
CLASS_LINKS = True
#: Class links count only beside another piece of evidence from the same profile that
#: stands (they back it up and add their reason; they never bring a notice in).
#: Class links read every code of the notice, not only the main (first) one.
CLASS_ALL_CODES = True
#: Read the enterprise's description at all (off: every similarity is 0).
USE_DESCRIPTION = True
#: Apply the similarity thresholds below (off: every kind that may count, counts).
GATE = True
#: Kinds of evidence, strongest first: a keyword in a CPV category title ("category"), one
#: word the rules want a second signal for ("oneword"), a keyword in a works or supplies
#: notice ("type": "construction of a leisure centre"), a trade word applied to a thing the
#: profile does not name ("object": "repairs to ships"), a keyword only further down the
#: description ("deep"), a synonym broader than the keyword ("broader": "respite" for
#: "respite care"), a related CPV wording ("related"), a CPV class link ("class").
KINDS = ("category", "oneword", "type", "object", "broader", "deep", "related", "class")
#: How like the notice (cosine of TF-IDF vectors of the description and the notice's title
#: and opening) the enterprise's description must be for each kind to count; None: never.
#: Tuned on the dev set only (docs/matching.md).
SIMILARITY: dict[str, float | None] = {
    "category": 0.0,
    "oneword": 0.0,
    "type": None,
    "object": 0.1,
    "broader": 0.0,
    "deep": 0.12,
    "related": 0.1,
    "class": 0.1,
}
#: Words of the notice's description read with its title for the similarity.
SIMILARITY_WORDS = 60
#: Scores of the maybe tier (1-34) stay below every alert score (35 and up: a description hit
#: through a synonym is 45 - 10), so one sort of a subscriber's matches puts alerts first.
_MAYBE_SCORES = {
    "category": 30,
    "oneword": 30,
    "type": 22,
    "object": 22,
    "broader": 28,
    "deep": 20,
    "related": 25,
    "class": 20,
}
MAYBE_MAX_SCORE = 34


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # one of KINDS
    keyword: str
    reason: str


# --- the description as a vector ------------------------------------------------------------


def _idf(word_stem: str) -> float:
    n, df = document_frequencies()
    return math.log((n + 1) / (df.get(word_stem, 0) + 1)) + 1.0


_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=200_000)
def text_vector(text: str) -> tuple[tuple[str, float], ...]:
    """A text's content words weighted by TF-IDF (idf from the bundled notices), unit length.

    Words are read plainly (letters only, case and accents folded, stemmed): a bag of words
    needs no positions, and 100,000 descriptions are read when a matcher is built."""
    counts: dict[str, int] = {}
    folded = text.casefold()
    if not folded.isascii():
        folded = strip_accents(folded)
    for word in _WORD.findall(folded):
        if word in STOPWORDS:
            continue
        s = stem(word)
        if len(s) < 3:
            continue
        counts[s] = counts.get(s, 0) + 1
    weights = {s: (1 + math.log(k)) * _idf(s) for s, k in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return tuple(sorted((s, w / norm) for s, w in weights.items()))


def similarity(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...]) -> float:
    if not a or not b:
        return 0.0
    small, big = (a, b) if len(a) < len(b) else (b, a)
    return _dot(small, dict(big))


def _dot(vector: tuple[tuple[str, float], ...], table: dict[str, float]) -> float:
    total = 0.0
    for s, w in vector:
        other = table.get(s)
        if other is not None:
            total += w * other
    return total


def notice_vector(doc: Document) -> dict[str, float]:
    """The notice's title and the opening of its description (where it says what it buys;
    the rest is mostly boilerplate that every notice shares). Kept on the document."""
    if doc.vector is None:
        n = doc.notice
        opening = " ".join((n.description or "").split()[:SIMILARITY_WORDS])
        doc.vector = dict(text_vector(clean(f"{n.title or ''}\n{opening}")))
    return doc.vector


def description_similarity(profile: Profile, doc: Document) -> float:
    """How like the notice the enterprise's description is (0 without a description)."""
    if not USE_DESCRIPTION or not profile.description:
        return 0.0
    return _dot(text_vector(profile.description), notice_vector(doc))


#: The kinds that only the title or the description's opening can give (a keyword, a broader
#: synonym): the rest ("weak") come from further down, related wordings and class links.
STRONG_KINDS = frozenset(["category", "oneword", "type", "object", "broader"])


def weak_floor() -> float | None:
    """The similarity below which weak evidence never counts, or None when some weak kind
    counts without the description (then nothing may be skipped)."""
    if not GATE:
        return None
    floors = [SIMILARITY.get(k) for k in KINDS if k not in STRONG_KINDS]
    if any(f is not None and f <= 0 for f in floors):
        return None
    known = [f for f in floors if f is not None]
    return min(known) if known else 1.0


def description_stems(profile: Profile) -> frozenset[str]:
    return frozenset(s for s, _ in text_vector(profile.description))


# --- keyword links compiled to patterns ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelatedPattern:
    pattern: Pattern
    text: str
    code: str


@lru_cache(maxsize=20_000)
def _related_pattern(text: str, code: str) -> RelatedPattern | None:
    pattern = _words_pattern(text, False)
    return None if pattern is None else RelatedPattern(pattern, text, code)


@lru_cache(maxsize=100_000)
def related_patterns(keyword_text: str) -> tuple[RelatedPattern, ...]:
    """The related wordings of a keyword as patterns (one object per wording, shared by every
    keyword and profile that has it)."""
    found = (_related_pattern(rel.text, rel.code) for rel in links(keyword_text).related)
    return tuple(r for r in found if r is not None)


def keyword_links(kw: Keyword) -> Links:
    return links(kw.text)


# --- the verdict -------------------------------------------------------------------------------


def evaluate_maybe(
    cp: CompiledProfile,
    doc: Document,
    hit: HitFinder,
    candidates: Collection[int] | None = None,
) -> Match | None:
    """The maybe verdict for a pair the sure rules turned down (call only after
    :func:`matchers.rules.evaluate` said None)."""
    ok, region = rules.filters_pass(cp, doc)
    if not ok:
        return None
    evidence: list[Evidence] = []
    for k, kw in enumerate(cp.keywords):
        if candidates is not None and k not in candidates:
            continue
        evidence.extend(_keyword_evidence(kw, doc, hit, cp))
    if not evidence:
        return None
    kept = _supported(evidence, cp.profile, doc)
    if not kept:
        return None  # a class link alone never brings a notice in (see CLASS_LINKS)
    if cp.exclusions and rules.excluded(cp, hit):
        return None
    least = SIMILARITY.get("class")
    if (
        CLASS_LINKS
        and doc.cpv
        and least is not None
        and (not GATE or least <= 0 or description_similarity(cp.profile, doc) >= least)
    ):
        kept.extend(e for kw in cp.keywords if (e := _class_evidence(kw, doc)) is not None)
    best = max(kept, key=lambda e: _MAYBE_SCORES[e.kind])
    score = _MAYBE_SCORES[best.kind]
    keywords = list(dict.fromkeys(e.keyword for e in kept))
    score = min(MAYBE_MAX_SCORE, score + 3 * min(2, len(keywords) - 1))
    reasons = list(dict.fromkeys(e.reason for e in kept))[:3]
    if region is not None:
        reasons.append(region_codes.describe(region))
    return Match(
        profile_id=cp.profile.id,
        notice_ocid=doc.notice.ocid,
        score=score,
        reasons=tuple(reasons),
        matched_keywords=tuple(keywords),
        tier=MAYBE,
    )


def _supported(evidence: list[Evidence], profile: Profile, doc: Document) -> list[Evidence]:
    """The evidence that stands: vetoed hits do; the weaker kinds need the description."""
    sim: float | None = None

    def like() -> float:
        nonlocal sim
        if sim is None:
            sim = description_similarity(profile, doc)
        return sim

    kept: list[Evidence] = []
    for e in evidence:
        least = SIMILARITY.get(e.kind)
        if least is not None and (not GATE or least <= 0 or like() >= least):
            kept.append(e)
    return kept


def _keyword_evidence(
    kw: Keyword, doc: Document, hit: HitFinder, cp: CompiledProfile
) -> list[Evidence]:
    shown = kw.text.strip(rules._QUOTES)
    out: list[Evidence] = []
    if VETOED:
        for variant in kw.variants:
            h = hit(variant.pattern)
            if h is None:
                continue
            name = f"“{shown}”" + (f" (as “{variant.shown}”)" if variant.shown else "")
            where = (
                "title"
                if h.title is not None
                else "description"
                if h.lead is not None and not variant.title_only
                else "deep"
                if h.description is not None and not variant.title_only
                else None
            )
            if where is None:
                continue
            if where == "deep":
                out.append(Evidence("deep", kw.text, f"{name} further down the description"))
            else:
                field, positions = (
                    (doc.title, h.title) if where == "title" else (doc.description, h.lead)
                )
                thing = (
                    rules.foreign_object(variant.pattern, positions, field, cp, doc)
                    if rules.OBJECT_CHECK and positions is not None
                    else None
                )
                if thing is not None:
                    kind, why = "object", f"but for “{thing}”"
                else:
                    kind, why = _why(kw, doc)
                out.append(Evidence(kind, kw.text, f"{name} in the {where}, {why}"))
            break
    if VETOED:
        for variant in kw.broader:
            h = hit(variant.pattern)
            if h is not None and (h.title is not None or h.lead is not None):
                where = "title" if h.title is not None else "description"
                out.append(
                    Evidence(
                        "broader",
                        kw.text,
                        f"“{variant.shown}” in the {where}, a broader word for “{shown}”",
                    )
                )
                break
    if RELATED:
        for rel in related_patterns(kw.text):
            h = hit(rel.pattern)
            if h is not None and (h.title is not None or h.lead is not None):
                out.append(Evidence("related", kw.text, f"related: “{rel.text}” (CPV {rel.code})"))
                break
    return out


@lru_cache(maxsize=50_000)
def _notice_classes(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((c, cpv_codes.significant(c)[: inference.TRADE_DIGITS]) for c in codes)


def _class_evidence(kw: Keyword, doc: Document) -> Evidence | None:
    """The notice is filed under a class the keyword's labels (or the bundled notices) link
    it to. Only ever a second piece of evidence: a class holds much an enterprise does not
    do, and at national scale every notice's class links to thousands of keywords."""
    classes = keyword_links(kw).classes
    if not classes:
        return None
    shown = kw.text.strip(rules._QUOTES)
    for code, cls in _notice_classes(doc.cpv if CLASS_ALL_CODES else doc.cpv[:1]):
        source = classes.get(cls)
        if source is not None:
            via = "notices like it" if source == "stats" else f"CPV {source}"
            return Evidence(
                "class",
                kw.text,
                f"filed under {cpv_codes.describe(code)}, the class of “{shown}” ({via})",
            )
    return None


def _why(kw: Keyword, doc: Document) -> tuple[str, str]:
    """Which precision rule distrusted a hit: the evidence kind, and why in words."""
    main = doc.cpv[0] if doc.cpv else None
    if main is not None and not inference.notice_compatible(kw.inference, doc.cpv[:1]):
        kind = inference.contract_type(main) or "other"
        return "type", f"but it is a {kind} notice (CPV {main})"
    if doc.title_label is not None:
        return "category", "but the title is only a CPV category"
    return "oneword", "but one word is not enough on its own"
