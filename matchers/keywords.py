"""Keywords compiled into search patterns, and the test of one pattern against one text.

A keyword becomes one or more :class:`Pattern` objects: the keyword itself, its words run
together ("play scheme" -> "playscheme"), and its synonyms from the lexicon. A pattern is a set
of terms that must all occur close together, in any order (``kind="words"``), or a run of exact
words in order (``kind="exact"``, from a "quoted phrase").

Term keys live in three namespaces that cannot collide:

* a stem (lower case): ordinary words, inflection- and typo-tolerant;
* an acronym as typed (contains capitals): whole word, case-sensitive;
* ``"=" + word`` (casefolded, unstemmed): words of a quoted phrase.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from itertools import pairwise
from typing import Literal

from rapidfuzz.distance import OSA

from matchers.inference import NO_INFERENCE, Inference, infer
from matchers.lexicon import WEAK_HEADS, head_variants, synonyms
from matchers.senses import compiled as other_senses
from matchers.text import CLAUSE_GAP, STOPWORDS, Token, stem, tokenize, tokenize_phrase
from matchers.words import corrections, is_known

#: Phrases with a generic modifier or head also search their head noun / other generic heads
#: (:func:`matchers.lexicon.head_variants`). A switch for the evaluation's ablation.
HEAD_VARIANTS = True

#: Extra words allowed inside a phrase's window ("roof repair" finds "repairs to the roof").
PHRASE_SLACK = 3

_QUOTES = '"“”„«»'
_COORDINATORS = frozenset(["and", "or", "&"])

#: A phrase with a generic word ("information service", "building works", "digital delivery",
#: "play provision") is nearly a one-word
#: keyword if its words may be apart ("information about the service"): they must be next to
#: each other, or one little word apart ("services of information", "services for carers"),
#: never another word ("digital managed services" is not "digital services").
GENERIC_SLACK = 1
_GENERIC_STEMS = frozenset(
    stem(w) for w in ("service", "services", "work", "works", "delivery", "provision")
)


def allowed_edits(key: str) -> int:
    """Typos tolerated for a keyword word (by its stem): none up to 4 letters, 1 up to 7,
    then 2."""
    n = len(key)
    if n <= 4:
        return 0
    if n <= 7:
        return 1
    return 2


def is_acronym_surface(surface: str) -> bool:
    """``NHS``, ``BSL``, ``IT``, ``WEEE``: two to six characters, all capitals."""
    return 2 <= len(surface) <= 6 and surface.isupper() and surface.isalnum()


def typo_ok(key: str, token_stem: str) -> bool:
    """Is ``token_stem`` a misspelling of the keyword word ``key``?

    Only unknown words can be typos (a real word is never a misspelling of another), the first
    letter must agree, and the edit distance (a swap of two letters counts once) is bounded by
    :func:`allowed_edits` of the keyword word.
    """
    k = allowed_edits(key)
    if k == 0 or token_stem == key or not token_stem.isalpha() or token_stem[0] != key[0]:
        return False
    if abs(len(token_stem) - len(key)) > k or is_known(token_stem):
        return False
    return OSA.distance(key, token_stem, score_cutoff=k) <= k


@dataclass(frozen=True, slots=True)
class Pattern:
    """One searchable form of a keyword. Hashable: identical patterns are shared."""

    kind: Literal["words", "exact"]
    terms: tuple[str, ...]
    # Tolerant matching: stem terms accept typos, and a word used in another sense
    # (:mod:`matchers.senses`) does not count. Off for exclusions and quoted phrases.
    fuzzy: bool
    # extra words allowed inside the phrase's window
    slack: int = PHRASE_SLACK
    # the extra words must be little words ("services for carers", not "employment law
    # services"): for wordings we made up rather than ones a user or the lexicon gave
    stop_gaps: bool = False
    # the keyword is a list ("drug and alcohol"): clause breaks inside the window are free
    lists: bool = False
    typo_terms: tuple[str, ...] = dc_field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.fuzzy and self.kind == "words":
            typo = tuple(t for t in self.terms if t.islower() and allowed_edits(t) > 0)
            object.__setattr__(self, "typo_terms", typo)

    def fuzzy_terms(self) -> tuple[str, ...]:
        """The terms that accept typos (stems of more than four letters)."""
        return self.typo_terms


@dataclass(frozen=True, slots=True)
class Variant:
    """A pattern and the text it stands for, shown in reasons when it is not the keyword.

    ``title_only`` variants count only in the title, and only when one of the ``context`` stems
    occurs somewhere in the notice (the head-noun rule: "staff training" -> "training" in the
    title of a notice that speaks of staff, employees or the workforce).
    """

    pattern: Pattern
    shown: str | None  # synonym text; None for the keyword itself and its run-together form
    title_only: bool = False
    context: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Keyword:
    text: str
    variants: tuple[Variant, ...]
    inference: Inference = NO_INFERENCE
    acronym: str | None = None  # the keyword is this one acronym ("CMS")
    # the head noun of a phrase ("development" of "web development"), as a stem; None for one
    # word, acronyms and generic heads
    head: str | None = None
    # synonyms broader than the keyword (NARROW_SYNONYMS): evidence for the maybe tier only
    broader: tuple[Variant, ...] = ()


#: A synonym may not be broader than its keyword: one whose specific words are only some of
#: the keyword's ("respite" for "respite care", "holiday scheme" for "holiday club") would find
#: notices the keyword does not mean. The lexicon's groups are symmetric, so each member is
#: searched only through the members at least as specific as itself.
NARROW_SYNONYMS = True
_BROAD_WORDS = frozenset(
    stem(w)
    for w in (
        "service",
        "services",
        "work",
        "works",
        "support",
        "provision",
        "scheme",
        "programme",
        "other",
        "general",
    )
)


def _specific_stems(text: str) -> frozenset[str]:
    return frozenset(
        t.surface if is_acronym_surface(t.surface) else t.stem
        for t in tokenize_phrase(text)
        if t.lower not in STOPWORDS and t.stem not in _BROAD_WORDS
    )


def broader(synonym: str, keyword: str) -> bool:
    """Does ``synonym`` say less than ``keyword`` (its specific words a strict subset)?"""
    mine, theirs = _specific_stems(keyword), _specific_stems(synonym)
    return bool(theirs) and theirs < mine


def _unquote(text: str) -> str | None:
    t = text.strip()
    if len(t) >= 2 and t[0] in _QUOTES and t[-1] in _QUOTES:
        return t[1:-1].strip()
    return None


def _words_pattern(text: str, fuzzy: bool) -> Pattern | None:
    tokens = tokenize_phrase(text)
    shouted = len(tokens) > 1 and all(t.surface.isupper() for t in tokens)
    terms: list[str] = []
    for tok in tokens:
        if not shouted and is_acronym_surface(tok.surface):
            key = tok.surface
        elif tok.lower in STOPWORDS and len(tokens) > 1:
            continue
        else:
            key = tok.stem
        if key not in terms:
            terms.append(key)
    if not terms:  # a phrase made only of stopwords: search them as they are
        terms = list(dict.fromkeys(t.stem for t in tokens))
    if not terms:
        return None
    if len(tokens) > 1 and all(t in _NO_HEAD for t in terms):
        # "into work" is not "work", "support services" not "services": a phrase whose only
        # content words are generic is searched as written, word for word
        exact = tuple(dict.fromkeys("=" + t.lower for t in tokens))
        return Pattern("exact", exact, False)
    slack = PHRASE_SLACK
    generic = len(terms) > 1 and any(t in _GENERIC_STEMS for t in terms)
    if generic:
        slack = GENERIC_SLACK
    # a keyword that is itself a list ("recreational cultural and sporting") finds the same
    # list written with commas: its window does not count clause breaks
    lists = len(terms) > 1 and any(t.lower in _COORDINATORS for t in tokens)
    # "digital services" is nearly the one word "digital": a word between may only be a
    # little one ("services for carers"), never another trade ("digital managed services");
    # exclusions stay broad (they only ever remove matches)
    return Pattern("words", tuple(terms), fuzzy, slack, stop_gaps=generic and fuzzy, lists=lists)


def _joined_pattern(text: str, fuzzy: bool) -> Pattern | None:
    tokens = [t for t in tokenize_phrase(text) if not is_acronym_surface(t.surface)]
    if not 2 <= len(tokens) <= 3 or any(t.lower in STOPWORDS for t in tokens):
        return None
    return Pattern("words", (stem("".join(t.lower for t in tokens)),), fuzzy)


def compile_keyword(text: str, *, exclusion: bool = False) -> Keyword:
    """Compile what a user typed. Exclusions get no synonyms and no typo tolerance."""
    inner = _unquote(text)
    variants: list[Variant] = []
    if inner is not None:
        terms = tuple("=" + t.lower for t in tokenize(inner))
        if terms:
            variants.append(Variant(Pattern("exact", terms, False), None))
        return Keyword(text, tuple(variants))
    fuzzy = not exclusion
    seen: set[Pattern] = set()

    def add(pattern: Pattern | None, shown: str | None) -> None:
        if pattern is not None and pattern not in seen:
            seen.add(pattern)
            variants.append(Variant(pattern, shown))

    add(_words_pattern(text, fuzzy), None)
    add(_joined_pattern(text, fuzzy), None)
    if exclusion:
        return Keyword(text, tuple(variants))
    broad: list[Variant] = []
    for other in synonyms(text):
        if NARROW_SYNONYMS and broader(other, text):
            # not a sure sign, but worth a look (the maybe tier reads these)
            pattern = _words_pattern(other, fuzzy)
            if pattern is not None and pattern not in seen:
                broad.append(Variant(pattern, other))
            continue
        add(_words_pattern(other, fuzzy), other)
        add(_joined_pattern(other, fuzzy), other)
    # the user's own typos: an unknown word also searches for the real words it is close to
    fixes = _corrected(text)
    for fixed in fixes:
        add(_words_pattern(fixed, fuzzy), fixed)
        add(_joined_pattern(fixed, fuzzy), fixed)
        for other in synonyms(fixed):
            add(_words_pattern(other, fuzzy), other)
    for head in head_variants(text) if HEAD_VARIANTS else ():
        pattern = _words_pattern(head.text, fuzzy)
        if pattern is None:
            continue
        if head.context:
            variants.append(Variant(pattern, head.text, title_only=True, context=head.context))
        else:
            # a wording we made up, not one the user or the lexicon gave: only little words
            # may come between ("services for carers", not "employment law services")
            swapped = replace(pattern, stop_gaps=True)
            if swapped not in seen:
                seen.add(swapped)
                variants.append(Variant(swapped, head.text, title_only=True))
    tokens = tokenize_phrase(text)
    acronym = (
        tokens[0].surface if len(tokens) == 1 and is_acronym_surface(tokens[0].surface) else None
    )
    inference = infer(text)
    if not inference.known:
        for fixed in fixes:
            inference = infer(fixed)
            if inference.known:
                break
    return Keyword(text, tuple(variants), inference, acronym, _head(text), tuple(broad))


#: Heads that name no trade of their own ("information service", "carers support").
_NO_HEAD = frozenset(stem(w) for w in ("service", "services", "work", "works", *WEAK_HEADS))


def _head(text: str) -> str | None:
    """The head noun of a phrase: its last content word ("people" of "older people")."""
    if _unquote(text) is not None:
        return None
    tokens = [t for t in tokenize_phrase(text) if t.lower not in STOPWORDS]
    if len(tokens) < 2 or any(is_acronym_surface(t.surface) for t in tokens):
        return None
    last = tokens[-1]
    if last.stem in _NO_HEAD or not last.lower.isalpha() or len(last.stem) < 3:
        return None
    return last.stem


def _corrected(text: str) -> list[str]:
    """``"schol catering"`` -> ``["school catering"]``: each misspelt word replaced by its
    closest real words (at most a few variants)."""
    tokens = tokenize_phrase(text)
    options: list[list[str]] = []
    changed = False
    for tok in tokens:
        fixes: tuple[str, ...] = ()
        misspelt = (
            not is_acronym_surface(tok.surface)
            and tok.lower.isalpha()
            and len(tok.lower) > 4
            and not is_known(tok.stem)
            and not is_known(tok.lower)
        )
        if misspelt:
            fixes = corrections(tok.lower, allowed_edits(tok.lower))
        if fixes:
            changed = True
            options.append(list(fixes[:3]))
        else:
            options.append([tok.lower])
    if not changed:
        return []
    out = [""]
    for opts in options:
        out = [f"{prefix} {o}".strip() for prefix in out for o in opts][:6]
    return out


# --- one text field ----------------------------------------------------------------------


@dataclass(slots=True)
class Field:
    """A notice field ready for matching: every key with its positions.

    ``exact`` holds what the text says (stems, acronyms, exact words, run-together pairs);
    ``fuzzy`` holds keyword words that a misspelt word of the text stands for. Both map a key
    to sorted positions.
    """

    tokens: list[Token]
    exact: dict[str, list[int]]
    fuzzy: dict[str, list[int]]
    # stem -> positions where the word is used in another sense, with that sense's context
    masked: dict[str, list[tuple[int, frozenset[str]]]] = dc_field(default_factory=dict)
    # positions of little words ("for", "and", "of"...)
    stops: frozenset[int] = frozenset()
    # positions of words followed by a clause break (a comma, a bracket, a dash)
    clause_ends: tuple[int, ...] = ()
    by_pos: dict[int, Token] = dc_field(default_factory=dict)

    def token_at(self, pos: int) -> Token | None:
        if not self.by_pos and self.tokens:
            self.by_pos.update((t.pos, t) for t in self.tokens)
        return self.by_pos.get(pos)

    def surface_at(self, positions: tuple[int, ...]) -> str:
        wanted = set(positions)
        return " ".join(t.surface for t in self.tokens if t.pos in wanted)


def analyse(text: str) -> Field:
    """Tokenise a field and build its exact keys (no typo expansion yet)."""
    return analyse_tokens(tokenize(text))


def analyse_tokens(tokens: list[Token]) -> Field:
    """Build a field's keys from tokens (also used for the opening words of a description)."""
    exact: dict[str, list[int]] = {}

    def put(key: str, pos: int) -> None:
        lst = exact.get(key)
        if lst is None:
            exact[key] = [pos]
        elif lst[-1] != pos:
            lst.append(pos)

    prev: Token | None = None
    for tok in tokens:
        put(tok.stem, tok.pos)
        put("=" + tok.lower, tok.pos)
        if is_acronym_surface(tok.surface):
            put(tok.surface, tok.pos)
        elif (
            len(tok.surface) >= 4
            and tok.surface.endswith("s")
            and is_acronym_surface(tok.surface[:-1])
        ):  # "IDVAs", "NGOs": plural of an acronym
            put(tok.surface[:-1], tok.pos)
        if prev is not None and prev.pos == tok.pos - 1:
            put(stem(prev.lower + tok.lower), prev.pos)
        prev = tok
    for lst in exact.values():
        lst.sort()
    stops = frozenset(t.pos for t in tokens if t.lower in STOPWORDS)
    ends = tuple(a.pos for a, b in pairwise(tokens) if b.pos - a.pos == CLAUSE_GAP + 1)
    return Field(tokens, exact, {}, _masks(tokens), stops, ends)


def _masks(tokens: list[Token]) -> dict[str, list[tuple[int, frozenset[str]]]]:
    senses = other_senses()
    masked: dict[str, list[tuple[int, frozenset[str]]]] = {}
    for i, tok in enumerate(tokens):
        for stems, idx, context in senses.get(tok.stem, ()):
            end = i + len(stems)
            if end > len(tokens):
                continue
            run = tokens[i:end]
            if run[-1].pos - run[0].pos != len(stems) - 1:
                continue
            if all(t.stem == s for t, s in zip(run, stems, strict=True)):
                masked.setdefault(stems[idx], []).append((run[idx].pos, context))
    return masked


def _positions(pattern: Pattern, term: str, field: Field) -> list[int]:
    exact = field.exact.get(term, [])
    if not (pattern.fuzzy and pattern.kind == "words"):
        return exact
    extra = field.fuzzy.get(term)
    if extra:
        exact = sorted(set(exact) | set(extra))
    masks = field.masked.get(term)
    if masks:
        terms = set(pattern.terms)
        drop = {pos for pos, context in masks if not context <= terms}
        if drop:
            exact = [p for p in exact if p not in drop]
    return exact


def find(pattern: Pattern, field: Field) -> tuple[int, ...] | None:
    """Positions of the first tightest occurrence of ``pattern`` in ``field``, or None."""
    lists = []
    for term in pattern.terms:
        lst = _positions(pattern, term, field)
        if not lst:
            return None
        lists.append(lst)
    if pattern.kind == "exact":
        following = [set(lst) for lst in lists[1:]]
        for start in lists[0]:
            if all(start + i + 1 in s for i, s in enumerate(following)):
                return tuple(range(start, start + len(lists)))
        return None
    if len(lists) == 1:
        return (lists[0][0],)
    if pattern.lists and field.clause_ends:
        return _tightest_list(lists, len(lists) + pattern.slack, field.clause_ends)
    found = _tightest(lists, len(lists) + pattern.slack)
    if found is not None and pattern.stop_gaps:
        between = set(range(min(found), max(found) + 1)).difference(found)
        if not between <= field.stops:
            return None
    return found


def _tightest_list(
    lists: list[list[int]], max_span: int, clause_ends: tuple[int, ...]
) -> tuple[int, ...] | None:
    """:func:`_tightest` for a list keyword: the clause breaks inside a window are not counted
    ("recreational, cultural and sporting"), sentence breaks still are."""
    wide = _tightest(lists, max_span + CLAUSE_GAP * (len(lists) - 1))
    if wide is None:
        return None
    lo, hi = min(wide), max(wide)
    breaks = sum(1 for e in clause_ends if lo <= e < hi)
    return wide if hi - lo + 1 - CLAUSE_GAP * breaks <= max_span else None


def _tightest(lists: list[list[int]], max_span: int) -> tuple[int, ...] | None:
    """Smallest window holding one position from each list (distinct positions)."""
    events = sorted((p, i) for i, lst in enumerate(lists) for p in lst)
    need = len(lists)
    counts = [0] * need
    have = 0
    best: tuple[int, int] | None = None
    left = 0
    for right in range(len(events)):
        pos_r, term_r = events[right]
        if counts[term_r] == 0:
            have += 1
        counts[term_r] += 1
        while have == need:
            pos_l, term_l = events[left]
            span = pos_r - pos_l + 1
            if span <= max_span and (best is None or span < best[1] - best[0] + 1):
                best = (pos_l, pos_r)
            counts[term_l] -= 1
            if counts[term_l] == 0:
                have -= 1
            left += 1
    if best is None:
        return None
    lo, hi = best
    chosen: list[int] = []
    for lst in lists:
        pick = next((p for p in lst if lo <= p <= hi and p not in chosen), None)
        if pick is None:
            return None
        chosen.append(pick)
    return tuple(sorted(chosen))
