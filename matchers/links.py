"""What a keyword is linked to beyond its own words: CPV labels, their families, and the
bundled notices' statistics. The sources of the "maybe" tier (:mod:`matchers.tiers`).

Everything here comes from sources about procurement, never from the evaluation notices:

* **Label codes.** The CPV codes whose label contains every content word of the keyword (or
  of one of its lexicon synonyms): ``laundry`` -> ``98311000 Laundry-collection services``.
  Containment, not the equality :mod:`matchers.inference` asks for, so these are links, not
  proof. Goods and works labels count only when the keyword's own inferred codes are goods or
  works ("Laundry bags" says nothing about a laundry service).
* **Related wording.** The labels of those codes' family (the codes beneath the same parent of
  at least class level, and their own children): ``events`` -> ``79952000 Event services`` ->
  "festival organisation", "seminar organisation", "exhibition, fair and congress
  organisation". Each is searched as a phrase of its content words.
* **Classes.** The class-level prefixes (four significant digits) of the label codes and the
  inferred codes, plus the classes the bundled notices file titles with the keyword's words
  under (``matchers/data/notice_stats.json``, built from bundled notices outside the
  evaluation set by ``benchmarks/build_notice_stats.py``).

Computed once per keyword text and cached, like :func:`matchers.inference.infer`: they depend
on the keyword alone, so a profile matched alone gets the same links as in company.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from matchers import cpv as cpv_codes
from matchers import inference
from matchers.lexicon import synonyms
from matchers.text import STOPWORDS, tokenize, tokenize_phrase

#: A class is four significant digits ("7995" Exhibition, fair and congress organisation).
CLASS_DIGITS = 4
#: A label that contains the keyword may say one thing more ("Laundry-collection services"),
#: not three ("Print utility software development services" is software, not printing).
MAX_EXTRA_WORDS = 1
#: Related wordings kept per keyword (the families of broad words are large).
MAX_RELATED = 40
#: A word of the bundled notices' titles links to a class when at least this many of its
#: notices, and this share of them, are filed there.
STAT_MIN_NOTICES = 2
STAT_MIN_SHARE = 0.5
#: Sources of the maybe tier, switchable for the evaluation.
LABEL_LINKS = True
FAMILY_WORDING = True
NOTICE_STATS = True


@dataclass(frozen=True, slots=True)
class Related:
    """A wording related to a keyword through a CPV label, searched as a phrase."""

    text: str  # the label's content words ("festival organisation")
    code: str  # the 8-digit code whose label it is


@dataclass(frozen=True, slots=True)
class Links:
    """Everything a keyword is linked to (empty for a keyword no label names)."""

    codes: tuple[str, ...]  # label codes (8 digits), most specific first
    classes: dict[str, str]  # class prefix -> the code (8 digits) it came from, or "stats"
    related: tuple[Related, ...]

    @property
    def known(self) -> bool:
        return bool(self.codes or self.classes or self.related)


NO_LINKS = Links((), {}, ())


def _content_stems(text: str) -> frozenset[str]:
    return frozenset(
        t.stem
        for t in tokenize(text)
        if t.lower not in STOPWORDS and t.lower not in inference.GENERIC_LABEL_WORDS
    )


@lru_cache(maxsize=1)
def _label_stems() -> dict[str, frozenset[str]]:
    return {code: _content_stems(text) for code, text in cpv_codes.labels().items()}


@lru_cache(maxsize=1)
def _labels_by_stem() -> dict[str, frozenset[str]]:
    """stem -> the codes whose label uses it (so a query reads a few postings, not 9,000
    labels: the index builds links for every distinct keyword of 100,000 profiles)."""
    table: dict[str, set[str]] = {}
    for code, stems in _label_stems().items():
        for s in stems:
            table.setdefault(s, set()).add(code)
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def _codes_by_prefix() -> dict[str, tuple[str, ...]]:
    """Significant prefix (class level and finer) -> the codes beneath it, in order."""
    table: dict[str, list[str]] = {}
    for code in sorted(cpv_codes.labels()):
        for n in range(CLASS_DIGITS, 9):
            table.setdefault(code[:n], []).append(code)
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=300_000)
def _query_stems(text: str) -> frozenset[str]:
    return frozenset(
        t.surface if t.surface.isupper() and len(t.surface) > 1 else t.stem
        for t in tokenize_phrase(text)
        if t.lower not in STOPWORDS and t.lower not in inference.GENERIC_LABEL_WORDS
    )


def _kind_ok(code: str, own_divisions: frozenset[str]) -> bool:
    """Services labels always; goods and works labels only in the keyword's own divisions."""
    kind = inference.contract_type(code)
    return kind == inference.SERVICES or code[:2] in own_divisions


def label_codes(text: str) -> tuple[str, ...]:
    """Codes whose label contains every content word of ``text`` or of one of its synonyms."""
    own = inference.infer(text)
    found: dict[str, None] = {c.code: None for c in own.codes}
    if LABEL_LINKS:
        for query in (text, *synonyms(text)):
            want = _query_stems(query)
            if not want:
                continue
            postings = [_labels_by_stem().get(s, frozenset()) for s in want]
            smallest = min(postings, key=len)  # read the rarest word's labels only
            stems_of = _label_stems()
            for code in smallest:
                stems = stems_of[code]
                if (
                    want <= stems
                    and len(stems - want) <= MAX_EXTRA_WORDS
                    and _kind_ok(code, own.divisions)
                ):
                    found.setdefault(code, None)
    depth = _depth()
    return tuple(sorted(found, key=lambda c: (-depth.get(c, 0), c)))


@lru_cache(maxsize=1)
def _depth() -> dict[str, int]:
    """Code -> how many significant digits it has (how specific it is)."""
    return {code: len(cpv_codes.significant(code)) for code in cpv_codes.labels()}


@lru_cache(maxsize=20_000)
def _family(code: str) -> tuple[str, ...]:
    """The codes beneath the same parent (at least class level), and the code's children."""
    sig = cpv_codes.significant(code)
    parent = sig[:-1] if len(sig) > CLASS_DIGITS else sig
    return tuple(c for c in _codes_by_prefix().get(parent, ()) if c != code)


@lru_cache(maxsize=20_000)
def _family_wordings(code: str) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """(wording, code, its stems) for the code and its family, specific ones only: shared by
    every keyword whose label codes include the code."""
    out: list[tuple[str, str, frozenset[str]]] = []
    for other in (code, *_family(code)):
        wording = _wording(other)
        if wording is not None and _specific(wording):
            out.append((wording, other, _query_stems(wording)))
    return tuple(out)


@lru_cache(maxsize=20_000)
def _wording(code: str) -> str | None:
    """A label's content words, in order ("Festival organisation services" -> "festival
    organisation"); None when nothing specific is left."""
    text = cpv_codes.labels()[code]
    words: list[str] = []
    skip = False
    for tok in tokenize(inference._PARENTHESES.sub(" ", text)):
        if skip:
            skip = False
            continue
        if tok.lower == "related":
            skip = True
            continue
        if tok.lower in STOPWORDS or tok.lower in inference.GENERIC_LABEL_WORDS:
            continue
        words.append(tok.lower)
    if not words or len(words) > 3:
        return None
    return " ".join(words)


@lru_cache(maxsize=1)
def _stats() -> dict[str, dict[str, int]]:
    raw = resources.files("matchers").joinpath("data/notice_stats.json").read_text("utf-8")
    data: dict[str, object] = json.loads(raw)
    table = data.get("title_classes")
    return table if isinstance(table, dict) else {}


@lru_cache(maxsize=1)
def document_frequencies() -> tuple[int, dict[str, int]]:
    """(notices, stem -> how many bundled notices use it): for weighting words."""
    raw = resources.files("matchers").joinpath("data/notice_stats.json").read_text("utf-8")
    data = json.loads(raw)
    return int(data.get("documents", 0)), dict(data.get("df", {}))


def _stat_classes(text: str) -> list[str]:
    """Classes the bundled notices file the keyword's (single) word under."""
    stems = [t.stem for t in tokenize_phrase(text) if t.lower not in STOPWORDS]
    out: list[str] = []
    if len(stems) != 1:
        return out
    counts = _stats().get(stems[0], {})
    total = sum(counts.values())
    for cls, k in counts.items():
        if k >= STAT_MIN_NOTICES and k / total >= STAT_MIN_SHARE:
            out.append(cls)
    return out


#: A related wording needs one word that few notices use: "provider" (in a quarter of the
#: bundled notices) or "business" say nothing about a trade.
SPECIFIC_SHARE = 0.02


@lru_cache(maxsize=1)
def _other_sense_phrases() -> dict[str, frozenset[frozenset[str]]]:
    """word stem -> the stems of the set phrases where it means another trade."""
    from matchers.senses import OTHER_SENSES

    table: dict[str, set[frozenset[str]]] = {}
    for word, phrase in OTHER_SENSES:
        key = next(t.stem for t in tokenize(word))
        table.setdefault(key, set()).add(frozenset(t.stem for t in tokenize(phrase)))
    return {k: frozenset(v) for k, v in table.items()}


def _other_sense(stems: frozenset[str], keyword_stems: frozenset[str]) -> bool:
    """Is a wording (its stems) one of the keyword's other senses ("disaster recovery" for
    ``recovery``)? Those are what the senses list exists to keep out."""
    table = _other_sense_phrases()
    return any(phrase <= stems for k in keyword_stems for phrase in table.get(k, ()))


@lru_cache(maxsize=20_000)
def _specific(wording: str) -> bool:
    n, df = document_frequencies()
    return any(
        df.get(t.stem, 0) <= SPECIFIC_SHARE * n
        for t in tokenize_phrase(wording)
        if t.lower not in STOPWORDS
    )


@lru_cache(maxsize=100_000)
def links(text: str) -> Links:
    """The links of one keyword as typed (quoted phrases and acronyms get none)."""
    inner = text.strip()
    if not inner or inner[0] in "\"“”'":
        return NO_LINKS
    codes = label_codes(inner)
    classes: dict[str, str] = {}
    depth = _depth()
    for code in codes:
        if depth.get(code, 0) >= CLASS_DIGITS:
            classes.setdefault(code[:CLASS_DIGITS], code)
    if NOTICE_STATS:
        for cls in _stat_classes(inner):
            classes.setdefault(cls, "stats")
    related: dict[str, Related] = {}
    own = _query_stems(inner)
    if FAMILY_WORDING:
        for code in codes:
            if depth.get(code, 0) < CLASS_DIGITS:
                continue
            for wording, other, stems in _family_wordings(code):
                if wording in related or stems <= own or _other_sense(stems, own):
                    continue  # nothing new, or another sense of the keyword
                related[wording] = Related(wording, other)
                if len(related) >= MAX_RELATED:
                    break
    return Links(codes, classes, tuple(related.values()))
