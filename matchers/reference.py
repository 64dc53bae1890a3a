"""Brute-force reference: the same rules, every pair, no index, no bulk typo expansion.

Slow on purpose and simple on purpose: it exists so that tests and the benchmark can prove the
indexed :class:`matchers.index.Matcher` finds exactly the same matches. Every rule (keyword
positions, CPV inference, contract type, CPV-label titles, head-noun variants, acronym senses)
lives in :func:`matchers.rules.evaluate`, which both call; here every pattern is searched in
every field of every notice and every keyword of every profile is evaluated, with no index.
"""

from __future__ import annotations

from collections.abc import Iterable

from feeds.notice import Notice
from matchers.keywords import Field, Pattern, find, typo_ok
from matchers.profile import Profile
from matchers.rules import Document, Hit, Match, compile_profile, evaluate, prepare
from matchers.tiers import evaluate_maybe


def _fuzzy_positions(field: Field, key: str) -> list[int]:
    return [tok.pos for tok in field.tokens if typo_ok(key, tok.stem)]


def _brute_hit(doc: Document, pattern: Pattern) -> Hit | None:
    for field in doc.fields:
        for term in pattern.fuzzy_terms():
            if term not in field.fuzzy:
                positions = _fuzzy_positions(field, term)
                field.fuzzy[term] = sorted(set(positions))
    t = find(pattern, doc.title)
    d = find(pattern, doc.description)
    lead = find(pattern, doc.lead)
    return Hit(t, lead, d) if t is not None or d is not None else None


def match_brute(
    notices: Iterable[Notice], profiles: Iterable[Profile], maybe: bool = False
) -> list[Match]:
    """Every (notice, profile) pair through :func:`matchers.rules.evaluate` (and, with
    ``maybe``, :func:`matchers.tiers.evaluate_maybe` for the pairs it turns down)."""
    compiled = [compile_profile(p) for p in profiles]
    out: list[Match] = []
    for notice in notices:
        doc = prepare(notice)

        def hit(pattern: Pattern, doc: Document = doc) -> Hit | None:
            return _brute_hit(doc, pattern)

        for cp in compiled:
            m = evaluate(cp, doc, hit)
            if m is None and maybe:
                m = evaluate_maybe(cp, doc, hit)
            if m is not None:
                out.append(m)
    return out
