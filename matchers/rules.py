"""The decision for one (profile, notice) pair: filters, exclusions, hits, score, reasons.

This module is shared by the indexed :class:`matchers.index.Matcher` and the brute-force
reference (:mod:`matchers.reference`). They differ only in how they find which patterns occur
in a notice; the verdict, the score and the wording of the reasons come from here, so the two
can be compared result for result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from feeds.notice import Notice
from matchers import cpv as cpv_codes
from matchers import inference
from matchers import regions as region_codes
from matchers.keywords import (
    Field,
    Keyword,
    Pattern,
    analyse_tokens,
    compile_keyword,
    is_acronym_surface,
)
from matchers.lexicon import synonyms
from matchers.profile import Profile
from matchers.text import STOPWORDS, Token, stem, tokenize


@dataclass(frozen=True, slots=True)
class Match:
    """A notice that fits a profile, with why.

    ``reasons`` are short phrases fit to print in an alert, in order: keywords, CPV, region,
    suitability. ``matched_keywords`` are the profile's own keywords (as typed) that hit, so an
    alert can offer "Mute keyword" buttons.

    ``tier`` says how sure the match is: ``"alert"`` (the rules are sure: send it now) or
    ``"maybe"`` (worth a look: a digest's "you might also consider" section, never an instant
    alert; see :mod:`matchers.tiers`).
    """

    profile_id: str
    notice_ocid: str
    score: int
    reasons: tuple[str, ...]
    matched_keywords: tuple[str, ...]
    tier: str = "alert"

    def to_json_dict(self) -> dict[str, object]:
        """The ``bestbot match`` output line."""
        return {
            "profile": self.profile_id,
            "notice": self.notice_ocid,
            "tier": self.tier,
            "score": self.score,
            "reasons": list(self.reasons),
            "matched_keywords": list(self.matched_keywords),
        }


@dataclass(frozen=True, slots=True)
class CompiledProfile:
    profile: Profile
    keywords: tuple[Keyword, ...]
    exclusions: tuple[Keyword, ...]
    cpv: tuple[str, ...]  # significant prefixes
    # every stem the profile's keywords and their synonyms search for (the object check)
    words: frozenset[str] = frozenset()

    @property
    def trade(self) -> inference.Trade:
        """What all its keywords (and codes) say its trade is, read together. Computed when
        a rule asks (cached by content), so the shipped rules pay nothing for it."""
        return inference.trade(tuple(kw.inference for kw in self.keywords), self.cpv)


_keyword_cache: dict[tuple[str, bool], Keyword] = {}


def cached_keyword(text: str, exclusion: bool) -> Keyword:
    """Compile once per distinct text: 100,000 profiles share far fewer keywords."""
    key = (text, exclusion)
    kw = _keyword_cache.get(key)
    if kw is None:
        kw = compile_keyword(text, exclusion=exclusion)
        if len(_keyword_cache) < 500_000:
            _keyword_cache[key] = kw
    return kw


def compile_profile(profile: Profile) -> CompiledProfile:
    keywords = tuple(cached_keyword(k, False) for k in profile.keywords)
    return CompiledProfile(
        profile=profile,
        keywords=keywords,
        exclusions=tuple(cached_keyword(k, True) for k in profile.exclude),
        cpv=tuple(dict.fromkeys(cpv_codes.significant(c) for c in profile.cpv)),
        words=frozenset(t for kw in keywords for v in kw.variants for t in v.pattern.terms),
    )


#: Keywords count in the title and in the opening words of the description (about its first
#: sentence or two, where a notice says what it buys). Later mentions are mostly background,
#: boilerplate and contact details ("see our website", "seek advice"), so they do not make a
#: match on their own; exclusions still veto from anywhere.
LEAD_WORDS = 30


@dataclass(slots=True)
class Document:
    """A notice prepared for matching (title and description analysed once)."""

    notice: Notice
    title: Field
    lead: Field  # the first LEAD_WORDS words of the description
    description: Field
    regions: tuple[str, ...]
    cpv: tuple[str, ...]
    # the CPV code whose label the title is word for word (a category name, not a description)
    title_label: str | None = None
    # positions of the title's content words when the title is a CPV label
    title_label_words: frozenset[int] = frozenset()
    # acronym -> the expansions the notice gives it ("CMS" -> ("central", "management", ...))
    acronyms: dict[str, set[tuple[str, ...]]] | None = None
    # the notice's value as (lowest, highest) figure above zero, if it gives one
    value_range: tuple[float, float] | None = None
    # positions of title words followed by "service(s)": the title says a service is bought
    named_services: frozenset[int] = frozenset()
    # the title and opening as a TF-IDF vector (matchers.tiers), computed when first asked
    vector: dict[str, float] | None = None

    @property
    def fields(self) -> tuple[Field, Field, Field]:
        return (self.title, self.lead, self.description)

    def has_stem(self, stems: frozenset[str]) -> bool:
        return any(s in self.title.exact or s in self.description.exact for s in stems)


# Switches for the methods below. They are constants of the rules (the index and the brute-force
# reference read the same ones); ``benchmarks/eval_matching.py --ablate`` turns them off one at
# a time to measure what each is worth. Never changed at run time.

#: Keywords match notices whose main CPV code is beneath a code their words name.
CPV_INFERENCE = True
#: Word hits in works/supplies notices need a keyword whose CPV labels name that division.
TYPE_RULE = True
#: A title that is word for word a CPV label says which category, not what is bought.
TITLE_LABEL_RULE = True
#: A title that is the CPV label of one of the keyword's own codes names what is bought.
OWN_LABEL_TITLE = True
#: A keyword the title names as a service ("... Concierge Services") counts in the title even
#: when the main CPV code says works or supplies: the buyer's words outrank a misfiled code.
TITLE_SERVICES_RULE = True
#: A one-word keyword found only in the description counts when the notice's main CPV code is
#: in a division the keyword's labels name ("cpv"); alternatives: "any", "never".
ONE_WORD_DESCRIPTION = "cpv"
#: "staff training" -> "training" in the title needs a workforce word in the notice.
HEAD_CONTEXT = True
#: An acronym the notice spells out as something else is not a hit.
ACRONYM_SENSES = True
#: A hit on an ambiguous single word is rejected in a notice whose main CPV code is far from
#: the profile's whole trade: "far" = another division and another contract type, "division"
#: = another division; "off".
TRADE_REJECT = "off"
#: A head noun of a profile keyword in the title counts when the notice's main CPV code is in
#: the profile's trade at class level (four digits).
TRADE_HEADS = False
#: An ambiguous single word (:func:`matchers.inference.ambiguous`) needs a second signal from
#: the same profile: another keyword, a profile CPV code, or the notice's main CPV division
#: among the word's own divisions ("own") or the profile's trade divisions ("trade"); "off".
TWO_SIGNALS = "own"
#: Trade words that apply to things ("repairs", "cleaning", "maintenance"...) count only when
#: the thing they apply to in the notice is one the profile names, or no thing at all:
#: "repairs to ships", "lift maintenance", "cleaning products" are not a bike repair shop's,
#: a handyperson's or a cleaning co-op's work.
OBJECT_CHECK = True
#: Which single words need that second signal besides the ambiguous ones: "senses" (only
#: those), "common" (also words common in notices' prose, ``COMMON_SHARE``), "labelled" (also
#: every one-word keyword whose CPV labels can say it), "all".
SINGLE_WORDS = "common"


def prepare(notice: Notice) -> Document:
    codes: list[str] = []
    for region in notice.regions:
        code = region_codes.to_code(region)
        if code is not None and code not in codes:
            codes.append(code)
    tokens = tokenize(notice.description or "")
    title_tokens = tokenize(notice.title or "")
    label_tokens = _label_part(notice.title or "", title_tokens)
    title_label = (
        inference.title_label(tuple(t.lower for t in label_tokens)) if TITLE_LABEL_RULE else None
    )
    return Document(
        notice=notice,
        title=analyse_tokens(title_tokens),
        lead=analyse_tokens(lead_tokens(tokens)),
        description=analyse_tokens(tokens),
        regions=tuple(codes),
        cpv=tuple(cpv_codes.clean_code(c) for c in notice.cpv if c),
        title_label=title_label,
        title_label_words=frozenset(
            t.pos
            for t in label_tokens
            if title_label is not None
            and t.lower not in STOPWORDS
            and t.lower not in inference.GENERIC_LABEL_WORDS
        ),
        acronyms=_acronym_expansions(title_tokens) | _acronym_expansions(tokens),
        value_range=_value_range(notice),
        named_services=_named_services(title_tokens) if TITLE_SERVICES_RULE else frozenset(),
    )


#: TED-style titles: "United Kingdom-Bristol: School catering services" (country-place, then the
#: CPV label of the main code).
_PLACE_PREFIX = re.compile(
    r"^\s*(?:United Kingdom|UK|England|Scotland|Wales|Northern Ireland)-[^:]{1,60}:"
)


def _label_part(title: str, tokens: list[Token]) -> list[Token]:
    """The title tokens that may be a CPV label: all of them, or those after a place prefix."""
    prefix = _PLACE_PREFIX.match(title)
    if prefix is None:
        return tokens
    rest = len(tokenize(title[prefix.end() :]))
    return tokens[len(tokens) - rest :] if rest else tokens


def _named_services(tokens: list[Token]) -> frozenset[int]:
    """Positions of title words directly followed by "service" or "services"."""
    return frozenset(
        t.pos
        for t, after in pairwise(tokens)
        if after.pos == t.pos + 1 and after.lower in ("service", "services")
    )


def lead_tokens(tokens: list[Token]) -> list[Token]:
    """The description words where a keyword may count: the opening words.

    Measured alternatives (docs/matching.md): the whole description, the first 50 or 80
    words, and later sentences that say what is bought ("the provision of...") all found one
    or two more relevant notices for ten to fifty more wrong ones."""
    return tokens[:LEAD_WORDS]


def _acronym_expansions(tokens: list[Token]) -> dict[str, set[tuple[str, ...]]]:
    """What the notice spells out its acronyms as: "Central Management System (CMS)", or any
    run of capitalised words whose initials an acronym of the notice spells."""
    out: dict[str, set[tuple[str, ...]]] = {}
    present = {t.surface for t in tokens if is_acronym_surface(t.surface)}
    if not present:
        return out
    lengths = {len(a) for a in present}
    for i in range(len(tokens)):
        for n in lengths:
            run = tokens[i : i + n]
            if len(run) != n or run[-1].pos - run[0].pos != n - 1:
                continue
            initials = "".join(t.surface[0] for t in run).upper()
            if initials not in present:
                continue
            following = tokens[i + n] if i + n < len(tokens) else None
            defined = following is not None and following.surface == initials
            capitalised = all(t.surface[0].isupper() and not t.surface.isupper() for t in run)
            if defined or capitalised:
                out.setdefault(initials, set()).add(tuple(t.stem for t in run))
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a pattern occurs: positions in the title, the description's opening, the whole
    description (None where it does not occur)."""

    title: tuple[int, ...] | None
    lead: tuple[int, ...] | None
    description: tuple[int, ...] | None


HitFinder = Callable[[Pattern], Hit | None]


def _value_range(notice: Notice) -> tuple[float, float] | None:
    value = notice.value
    if value is None:
        return None
    figures = [v for v in (value.min, value.amount) if isinstance(v, int | float) and v > 0]
    if not figures:
        return None
    return min(figures), max(figures)


#: What :func:`place_and_stage_pass` reads of a profile; many profiles share one.
PlaceAndStage = tuple[tuple[str, ...], bool, tuple[str, ...]]


def place_and_stage(profile: Profile) -> PlaceAndStage:
    return (profile.regions, profile.local_only, profile.stages)


def place_and_stage_pass(key: PlaceAndStage, doc: Document) -> bool:
    """The stage and region filters alone: most candidates a notice brings in fail here, and
    profiles share few distinct (regions, local only, stages), so the index asks once per
    distinct key and notice. :func:`filters_pass` applies the same two tests."""
    regions, local_only, stages = key
    return (
        doc.notice.stage in stages and region_codes.region_pass(regions, doc.regions, local_only)[0]
    )


def filters_pass(cp: CompiledProfile, doc: Document) -> tuple[bool, str | None]:
    """Stage, value, suitability and region; returns the region code to cite."""
    p = cp.profile
    notice = doc.notice
    if notice.stage not in p.stages:
        return False, None
    if p.min_value is not None or p.max_value is not None or p.require_value:
        rng = doc.value_range
        if rng is None:
            if p.require_value:
                return False, None
        else:
            lo, hi = rng
            if p.min_value is not None and hi < p.min_value:
                return False, None
            if p.max_value is not None and lo > p.max_value:
                return False, None
    if p.vcse_only and notice.suitable_vcse is not True:
        return False, None
    if p.sme_only and notice.suitable_sme is not True:
        return False, None
    return region_codes.region_pass(p.regions, doc.regions, p.local_only)


def excluded(cp: CompiledProfile, hit: HitFinder) -> bool:
    """An exclusion anywhere in the title or description vetoes the notice."""
    for kw in cp.exclusions:
        for v in kw.variants:
            h = hit(v.pattern)
            if h is not None and (h.title is not None or h.description is not None):
                return True
    return False


def cpv_hit(cp: CompiledProfile, doc: Document) -> str | None:
    """The first notice code covered by one of the profile's codes."""
    for code in doc.cpv:
        for prefix in cp.cpv:
            if code.startswith(prefix):
                return code
    return None


_QUOTES = '"“”„«» '
_TITLE_SCORE = 70
_DESCRIPTION_SCORE = 45
_VARIANT_PENALTY = 10
_EXTRA_KEYWORD = 5
_CPV_WITH_KEYWORD = 15
_CPV_ONLY = 55
_CPV_INFERRED = 50


def evaluate(
    cp: CompiledProfile,
    doc: Document,
    hit: HitFinder,
    candidates: Collection[int] | None = None,
) -> Match | None:
    """The verdict for one pair: a :class:`Match`, or None.

    ``candidates`` optionally names the only keyword indexes that can hit (the index knows);
    the others are skipped, which changes nothing but the time taken.
    """
    ok, region = filters_pass(cp, doc)
    if not ok:
        return None
    cpv_code = cpv_hit(cp, doc) if cp.cpv else None
    keyword_reasons: list[tuple[int, str]] = []
    matched: list[str] = []
    weak = 0
    for k, kw in enumerate(cp.keywords):
        if candidates is not None and k not in candidates:
            continue
        found = _keyword_hit(kw, doc, hit, cp)
        if found is None and TRADE_HEADS:
            found = _trade_head_hit(kw, doc, cp)
        if found is not None:
            keyword_reasons.append((found[0], found[1]))
            matched.append(kw.text)
            weak += found[2]
    if (
        TWO_SIGNALS != "off"
        and keyword_reasons
        and weak == len(keyword_reasons) == 1
        and cpv_code is None
    ):
        keyword_reasons.clear()  # one ambiguous word and nothing else says so
        matched.clear()
    if not keyword_reasons and cpv_code is None:
        return None
    if cp.exclusions and excluded(cp, hit):
        return None
    reasons: list[str] = []
    if keyword_reasons:
        ordered = sorted(keyword_reasons, key=lambda sr: -sr[0])
        score = ordered[0][0] + _EXTRA_KEYWORD * min(3, len(ordered) - 1)
        reasons.extend(text for _, text in ordered[:3])
        if cpv_code is not None:
            score += _CPV_WITH_KEYWORD
    else:
        score = _CPV_ONLY
    if cpv_code is not None:
        reasons.append(cpv_codes.describe(cpv_code))
    if region is not None:
        reasons.append(region_codes.describe(region))
    if cp.profile.vcse_only:
        reasons.append("suitable for VCSEs")
    if cp.profile.sme_only:
        reasons.append("suitable for SMEs")
    return Match(
        profile_id=cp.profile.id,
        notice_ocid=doc.notice.ocid,
        score=max(1, min(100, score)),
        reasons=tuple(reasons),
        matched_keywords=tuple(matched),
    )


def _keyword_hit(
    kw: Keyword, doc: Document, hit: HitFinder, cp: CompiledProfile
) -> tuple[int, str, bool] | None:
    """The best evidence that one keyword fits the notice: (score, reason, weak), or None.

    ``weak``: the evidence is one ambiguous word that the notice's main CPV code does not
    corroborate (see ``TWO_SIGNALS``); strong evidence is preferred to weak."""
    best: tuple[int, str, bool] | None = None
    shown_kw = kw.text.strip(_QUOTES)
    # the main (first) CPV code says what the contract is
    compatible = (
        not TYPE_RULE
        or inference.notice_compatible(kw.inference, doc.cpv[:1])
        or _title_is_own_label(kw, doc)
    )
    if compatible or doc.named_services:
        label_title = doc.title_label is not None and not _covers(kw, doc.title_label)
        acronym_ok = kw.acronym is None or not ACRONYM_SENSES or _acronym_sense_ok(kw.acronym, doc)
        for variant in kw.variants:
            if not acronym_ok and variant.shown is None:
                continue
            if variant.context and HEAD_CONTEXT and not doc.has_stem(variant.context):
                continue
            h = hit(variant.pattern)
            if h is None:
                continue
            ambiguous = _ambiguous(variant.pattern, kw, cp.profile.strict)
            if ambiguous and _far_from_trade(doc, cp):
                continue
            weak = ambiguous and not _corroborated(kw, doc, cp)
            lead_ok = (
                ONE_WORD_DESCRIPTION == "any"
                or len(variant.pattern.terms) > 1
                or (
                    ONE_WORD_DESCRIPTION == "cpv"
                    and not cp.profile.strict
                    and _main_division_named(kw, doc)
                )
            )
            for where, positions, field, base in (
                (
                    "title",
                    _title_positions(h.title, doc) if label_title else h.title,
                    doc.title,
                    _TITLE_SCORE,
                ),
                (
                    "description",
                    None if variant.title_only or not lead_ok else h.lead,
                    doc.description,
                    _DESCRIPTION_SCORE,
                ),
            ):
                if positions is None:
                    continue
                if not compatible and (
                    where != "title" or max(positions) not in doc.named_services
                ):
                    continue  # a works or supplies notice, unless its title names the service
                if OBJECT_CHECK and foreign_object(variant.pattern, positions, field, cp, doc):
                    continue  # the trade word applies to a thing the profile does not name
                score = base
                text = f"matched “{shown_kw}” in the {where}"
                if variant.shown is not None:
                    score -= _VARIANT_PENALTY
                    text += f" (as “{variant.shown}”)"
                elif _used_typo(variant.pattern, positions, field):
                    score -= _VARIANT_PENALTY
                    text += f" (spelt “{field.surface_at(positions)}”)"
                if best is None or (not weak, score) > (not best[2], best[0]):
                    best = (score, text, weak)
    if (best is None or best[2]) and CPV_INFERENCE:
        code = _inferred_cpv(kw, doc)
        if code is not None:
            text = f"{cpv_codes.describe(code)} (from “{shown_kw}”)"
            best = (_CPV_INFERRED, text, False)
    return best


def _ambiguous(pattern: Pattern, kw: Keyword, strict: bool = False) -> bool:
    """One word (not an acronym, not quoted) that names things in several trades.

    ``SINGLE_WORDS`` widens this: "common" also takes words common in notices' prose,
    "labelled" any single word whose keyword names CPV labels (their divisions can
    corroborate it), "all" (and a strict profile) every single word."""
    if not (pattern.kind == "words" and len(pattern.terms) == 1 and pattern.terms[0].islower()):
        return False
    if inference.ambiguous(pattern.terms[0]):
        return True
    if SINGLE_WORDS == "all" or strict:
        return True
    if SINGLE_WORDS == "common":
        return common_word(pattern.terms[0])
    return SINGLE_WORDS == "labelled" and kw.inference.known


#: A word that one notice in twenty uses is prose ("delivery", "nature"), not the name of a
#: trade: alone it is not sure enough for an instant alert (SINGLE_WORDS = "common"). Share of
#: the bundled notices outside the evaluation set (matchers/data/notice_stats.json), fixed at
#: one in twenty before measuring; no dev or fresh-trade keyword is that common.
COMMON_SHARE = 0.05


@lru_cache(maxsize=50_000)
def common_word(word_stem: str) -> bool:
    from matchers.links import document_frequencies

    n, df = document_frequencies()
    return n > 0 and df.get(word_stem, 0) >= COMMON_SHARE * n


def _far_from_trade(doc: Document, cp: CompiledProfile) -> bool:
    if TRADE_REJECT == "off" or not doc.cpv:
        return False
    trade = cp.trade
    if not trade.known:
        return False
    main = doc.cpv[0]
    if main[:2] in trade.divisions:
        return False
    if TRADE_REJECT == "division":
        return True
    return inference.contract_type(main) not in trade.kinds


def _corroborated(kw: Keyword, doc: Document, cp: CompiledProfile) -> bool:
    """Does the notice's main CPV code say the same as an ambiguous word?"""
    if TWO_SIGNALS == "off" or not doc.cpv:
        return True  # notices without codes are not checked (as for the contract type)
    if _title_is_own_label(kw, doc):
        return True
    division = doc.cpv[0][:2]
    if TWO_SIGNALS == "trade":
        return division in cp.trade.divisions
    return division in kw.inference.divisions


def _trade_head_hit(
    kw: Keyword, doc: Document, cp: CompiledProfile
) -> tuple[int, str, bool] | None:
    """A keyword's head noun in the title of a notice filed under the profile's trade."""
    if kw.head is None or kw.head not in doc.title.exact or not in_trade(doc, cp.trade):
        return None
    shown_kw = kw.text.strip(_QUOTES)
    head = doc.title.surface_at((doc.title.exact[kw.head][0],)).lower()
    return (
        _TITLE_SCORE - _VARIANT_PENALTY,
        f"matched “{shown_kw}” in the title (as “{head}”, CPV {doc.cpv[0]})",
        False,
    )


def in_trade(doc: Document, trade: inference.Trade) -> bool:
    """Is the notice's main CPV code in one of the trade's classes?"""
    return bool(doc.cpv) and doc.cpv[0][: inference.TRADE_DIGITS] in trade.classes


def _title_positions(positions: tuple[int, ...] | None, doc: Document) -> tuple[int, ...] | None:
    """A title that is a CPV label counts only where the keyword covers all its content words
    ("sport" names one item of "Recreational, cultural and sporting services")."""
    if positions is None or not doc.title_label_words <= set(positions):
        return None
    return positions


def _title_is_own_label(kw: Keyword, doc: Document) -> bool:
    """Is the title word for word the CPV label of a code the keyword's own labels name?

    ("Signs and related items" for ``signage``.) The buyer named the category the keyword
    belongs to: that says what is bought, whatever the main code's contract type, and it
    corroborates an ambiguous word."""
    return OWN_LABEL_TITLE and doc.title_label is not None and _covers(kw, doc.title_label)


def _main_division_named(kw: Keyword, doc: Document) -> bool:
    return bool(doc.cpv) and doc.cpv[0][:2] in kw.inference.divisions


def _covers(kw: Keyword, code: str) -> bool:
    return any(code.startswith(c.prefix) for c in kw.inference.codes)


def _inferred_cpv(kw: Keyword, doc: Document) -> str | None:
    """The first notice code beneath one of the keyword's own CPV codes."""
    for code in doc.cpv[:1]:
        for inferred in kw.inference.codes:
            if len(inferred.prefix) >= inference.MIN_PREFIX and code.startswith(inferred.prefix):
                return code
    return None


def _acronym_sense_ok(acronym: str, doc: Document) -> bool:
    """False when the notice spells the acronym out as something the lexicon does not know
    it for ("CMS" as "Central Management System" for a content management keyword)."""
    given = (doc.acronyms or {}).get(acronym)
    if not given:
        return True
    known = _known_expansions(acronym)
    if not known:
        return True
    return bool(given & known)


def _known_expansions(acronym: str) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for other in synonyms(acronym):
        toks = tokenize(other)
        if len(toks) > 1:
            out.add(tuple(t.stem for t in toks))
            out.add(tuple(t.stem for t in toks if t.lower not in STOPWORDS))
    return out


def _used_typo(pattern: Pattern, positions: tuple[int, ...], field: Field) -> bool:
    if not pattern.fuzzy:
        return False
    for term in pattern.fuzzy_terms():
        exact = field.exact.get(term, ())
        if not any(p in exact for p in positions):
            return True
    return False


# --- the object of a trade word -------------------------------------------------------------

#: Trade words whose object is a thing: what is repaired, cleaned, hired, stored or delivered.
THING_TRADES: frozenset[str] = frozenset(
    stem(w)
    for w in (
        "repair",
        "repairs",
        "maintenance",
        "servicing",
        "cleaning",
        "washing",
        "hire",
        "rental",
        "storage",
        "installation",
        "inspection",
        "testing",
        "disposal",
        "removal",
        "removals",
        "delivery",
        "refurbishment",
    )
)
_OBJECT_LINKS = frozenset(["of", "to", "for", "on"])
_ARTICLES = frozenset(["the", "a", "an", "all", "its", "their"])
#: A word names a thing when most CPV labels that use it are goods, works, or the repair,
#: maintenance and installation of equipment (divisions 50 and 51): ``vehicle``, ``lift``,
#: ``boiler``, ``product``, ``ship``; among at least this many labels.
THING_SHARE = 0.6
THING_LABELS = 3
#: Service divisions whose contracts are done to things: repair and maintenance (50),
#: installation (51).
THING_SERVICES = frozenset(["50", "51"])


@lru_cache(maxsize=1)
def _label_kinds() -> dict[str, tuple[int, int]]:
    """stem -> (labels of things that use it, all labels that use it)."""
    table: dict[str, list[int]] = {}
    for code, text in cpv_codes.labels().items():
        thing = (
            inference.contract_type(code) in (inference.WORKS, inference.SUPPLIES)
            or code[:2] in THING_SERVICES
        )
        for s in {t.stem for t in tokenize(text) if t.lower not in STOPWORDS}:
            row = table.setdefault(s, [0, 0])
            row[0] += thing
            row[1] += 1
    return {k: (v[0], v[1]) for k, v in table.items()}


def is_thing(word_stem: str) -> bool:
    things, total = _label_kinds().get(word_stem, (0, 0))
    return total >= THING_LABELS and things / total >= THING_SHARE


def _objects(field: Field, pos: int) -> list[Token]:
    """The words a trade word at ``pos`` applies to: the word before it ("lift repairs"),
    and the word after it, directly ("cleaning products") or after "of", "to", "for", "on"
    ("repairs to the ships")."""
    out: list[Token] = []
    before = field.token_at(pos - 1)
    if before is not None and before.lower not in STOPWORDS:
        out.append(before)
    after = field.token_at(pos + 1)
    if after is not None and after.lower in _OBJECT_LINKS:
        after = field.token_at(pos + 2)
        if after is not None and after.lower in _ARTICLES:
            after = field.token_at(pos + 3)
    if after is not None and after.lower not in STOPWORDS:
        out.append(after)
    return out


def foreign_object(
    pattern: Pattern,
    positions: tuple[int, ...],
    field: Field,
    cp: CompiledProfile,
    doc: Document,
) -> str | None:
    """The thing a trade word of the hit applies to, when the profile never names it and the
    notice's main CPV code is about things too (goods, works, repair or installation of
    equipment; or no code): "repairs to ships" filed under ship repair, "cleaning products".
    Cleaning an office filed under cleaning services is the cleaners' work whatever the
    office is made of, so service codes elsewhere pass."""
    if pattern.kind != "words" or not THING_TRADES.intersection(pattern.terms):
        return None
    if doc.cpv:
        main = doc.cpv[0]
        kind = inference.contract_type(main)
        on_things = kind in (inference.WORKS, inference.SUPPLIES) or main[:2] in THING_SERVICES
        if not on_things:
            return None
    for pos in positions:
        tok = field.token_at(pos)
        if tok is None or tok.stem not in THING_TRADES:
            continue
        for obj in _objects(field, pos):
            if obj.stem in pattern.terms or obj.stem in cp.words or obj.stem in THING_TRADES:
                continue
            if is_thing(obj.stem):
                return obj.surface
    return None
