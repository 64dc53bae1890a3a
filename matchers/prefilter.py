"""Which stored notices one profile could match at all: a cheap test before the real one.

A preview matches one profile against every notice of the last weeks, and most of the time
goes into preparing notices (their whole descriptions analysed) that could never match.
Keywords only count in the title and in the description's opening words
(:data:`matchers.rules.LEAD_WORDS`), and a CPV match needs the notice's codes, so a notice
none of whose title or opening words holds every term of some pattern of the profile's
keywords (or a misspelling of it), and none of whose codes the profile's CPV codes or its
keywords' inferred codes cover, can be skipped: :meth:`Prefilter.may_match` never says no to
a notice :class:`matchers.index.Matcher` would match (``tests/matchers/test_prefilter.py``
checks it on the real samples). What passes is matched by the real matcher.

A notice's :class:`NoticeKeys` depend on the notice only, so a caller may keep them per
notice version and test every new profile against them in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from matchers import cpv as cpv_codes
from matchers.keywords import Pattern, is_acronym_surface, typo_ok
from matchers.profile import Profile
from matchers.rules import LEAD_WORDS, compile_profile
from matchers.text import Token, stem, tokenize
from matchers.words import is_known

__all__ = ["NoticeKeys", "Prefilter", "notice_keys"]

#: Characters of a description tokenised to find its opening words (more when too few).
_LEAD_CHARS = 500


@dataclass(frozen=True, slots=True)
class NoticeKeys:
    """What a notice's title and opening words hold, as the matcher's term keys."""

    title: frozenset[str]
    lead: frozenset[str]
    #: stems of words that are no known word (possible misspellings), per field
    title_unknown: frozenset[str]
    lead_unknown: frozenset[str]
    cpv: tuple[str, ...]


def _keys(tokens: list[Token]) -> tuple[frozenset[str], frozenset[str]]:
    """The keys :func:`matchers.keywords.analyse_tokens` files (stems, exact words,
    acronyms, run-together pairs) and the unknown stems."""
    keys: set[str] = set()
    unknown: set[str] = set()
    prev: Token | None = None
    for tok in tokens:
        keys.add(tok.stem)
        keys.add("=" + tok.lower)
        if is_acronym_surface(tok.surface):
            keys.add(tok.surface)
        elif (
            len(tok.surface) >= 4
            and tok.surface.endswith("s")
            and is_acronym_surface(tok.surface[:-1])
        ):
            keys.add(tok.surface[:-1])
        if prev is not None and prev.pos == tok.pos - 1:
            keys.add(stem(prev.lower + tok.lower))
        prev = tok
        s = tok.stem
        if len(s) >= 4 and s.isalpha() and not is_known(s):
            unknown.add(s)
    return frozenset(keys), frozenset(unknown)


def notice_keys(title: str, description: str, cpv: tuple[str, ...]) -> NoticeKeys:
    tokens = tokenize(description[:_LEAD_CHARS])
    if len(tokens) <= LEAD_WORDS and len(description) > _LEAD_CHARS:
        tokens = tokenize(description)
    title_keys, title_unknown = _keys(tokenize(title))
    lead_keys, lead_unknown = _keys(tokens[:LEAD_WORDS])
    codes = tuple(cpv_codes.clean_code(c) for c in cpv if c)
    return NoticeKeys(title_keys, lead_keys, title_unknown, lead_unknown, codes)


class Prefilter:
    """The cheap superset test for one profile."""

    def __init__(self, profile: Profile) -> None:
        compiled = compile_profile(profile)
        self._patterns: list[Pattern] = [v.pattern for kw in compiled.keywords for v in kw.variants]
        fuzzy = {t for p in self._patterns for t in p.fuzzy_terms()}
        self._fuzzy_by_letter: dict[str, list[str]] = {}
        for term in sorted(fuzzy):
            self._fuzzy_by_letter.setdefault(term[0], []).append(term)
        self._cpv = compiled.cpv
        self._inferred = tuple(
            dict.fromkeys(c.prefix for kw in compiled.keywords for c in kw.inference.codes)
        )

    def _words_may_match(self, keys: frozenset[str], unknown: frozenset[str]) -> bool:
        have: set[str] | frozenset[str] = keys
        typos = {
            term
            for s in unknown
            for term in self._fuzzy_by_letter.get(s[0], ())
            if typo_ok(term, s)
        }
        if typos:
            have = keys | typos
        return any(all(t in have for t in p.terms) for p in self._patterns)

    def may_match(self, keys: NoticeKeys) -> bool:
        """Could the profile match the notice these keys were taken from?"""
        codes = keys.cpv
        if any(code.startswith(prefix) for code in codes for prefix in self._cpv):
            return True
        if codes and any(codes[0].startswith(prefix) for prefix in self._inferred):
            return True
        return self._words_may_match(keys.title, keys.title_unknown) or self._words_may_match(
            keys.lead, keys.lead_unknown
        )
