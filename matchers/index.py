"""The indexed matcher: built once per profile set, reused for every poll.

Brute force compares every keyword of every profile with every notice; at national scale
(100,000 profiles, 650,000 keywords) that is hours. Instead:

1. Every keyword is compiled into patterns; identical patterns are shared across profiles.
   Each pattern is filed in an inverted index under one of its terms (its *anchor*; all terms
   are required, so any one will do; the longest is usually the rarest).
2. Typo tolerance is resolved once per *vocabulary*, not per pair: the notice words that are
   not real words are compared with the keyword words in bulk (``rapidfuzz.process.cdist``,
   grouped by first letter, which typos must keep), and the result is cached across polls.
3. For a notice, only patterns anchored on one of its keys are verified; only profiles using a
   verified pattern (or a CPV prefix of the notice) are evaluated, with exactly the rules of
   :mod:`matchers.rules`.

Nothing is lost by this: a pattern can only occur if its anchor occurs, and the fuzzy
expansion applies the same :func:`matchers.keywords.typo_ok` test to every pair it could pass.
``benchmarks/bench_matching.py`` checks it against :mod:`matchers.reference`.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from feeds.notice import Notice
from matchers import cpv as cpv_codes
from matchers import inference, rules, tiers
from matchers.keywords import Field, Pattern, allowed_edits, find, typo_ok
from matchers.profile import Profile
from matchers.rules import (
    CompiledProfile,
    Document,
    Hit,
    Match,
    compile_profile,
    evaluate,
    prepare,
)
from matchers.words import is_known

_MAX_EDITS = 2


class Matcher:
    """Matches notices against a fixed set of profiles. Thread-safe for concurrent ``match``
    calls only in the sense that each call works on its own data; the typo cache is a plain
    dict whose updates are atomic under the GIL."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles: list[CompiledProfile] = [compile_profile(p) for p in profiles]
        self._maybe_built = False
        self._pattern_ids: dict[Pattern, int] = {}
        self._pid_by_object: dict[int, int] = {}  # id(pattern object) -> pattern id
        self._patterns: list[Pattern] = []
        users: list[list[int]] = []
        # a user is encoded as profile index * slots + keyword index
        self._slots = max((len(cp.keywords) for cp in self.profiles), default=0) + 1
        slots = self._slots
        exclusion_pids: set[int] = set()
        for idx, cp in enumerate(self.profiles):
            for k, kw in enumerate(cp.keywords):
                for v in kw.variants:
                    pid = self._intern(v.pattern, users)
                    users[pid].append(idx * slots + k)
            for kw in cp.exclusions:
                for v in kw.variants:
                    exclusion_pids.add(self._intern(v.pattern, users))
        # profiles using each pattern as a keyword (deduplicated, compact)
        self._users: list[array[int]] = [array("q", sorted(set(u))) for u in users]
        self._exclusion_pids = exclusion_pids
        # keyword patterns count in the title and the description's opening only, so they are
        # looked up there; exclusion patterns veto from anywhere
        self._anchors: dict[str, list[int]] = defaultdict(list)
        self._exclusion_anchors: dict[str, list[int]] = defaultdict(list)
        self._is_exclusion = [pid in exclusion_pids for pid in range(len(self._patterns))]
        for pid, pattern in enumerate(self._patterns):
            anchor = _anchor(pattern)
            if self._is_exclusion[pid]:
                self._exclusion_anchors[anchor].append(pid)
            else:
                self._anchors[anchor].append(pid)
        self._cpv: dict[str, list[int]] = defaultdict(list)
        for idx, cp in enumerate(self.profiles):
            for prefix in cp.cpv:
                self._cpv[prefix].append(idx)
        # keywords by the CPV codes their words name (users encoded as above)
        self._min_prefix = min_prefix = inference.MIN_PREFIX
        self._keyword_cpv: dict[str, list[int]] = defaultdict(list)
        for idx, cp in enumerate(self.profiles):
            for k, kw in enumerate(cp.keywords):
                for prefix in dict.fromkeys(c.prefix for c in kw.inference.codes):
                    if len(prefix) >= min_prefix:
                        self._keyword_cpv[prefix].append(idx * slots + k)
        # keywords whose head noun counts in a title under the profile's trade (class, head)
        self._trade_heads: dict[tuple[str, str], list[int]] = defaultdict(list)
        if rules.TRADE_HEADS:
            for idx, cp in enumerate(self.profiles):
                for k, kw in enumerate(cp.keywords):
                    if kw.head is not None:
                        for cls in cp.trade.classes:
                            self._trade_heads[(cls, kw.head)].append(idx * slots + k)
        # fuzzy vocabulary: keyword words that tolerate typos, grouped by first letter
        fuzzy_vocab: dict[str, set[str]] = defaultdict(set)
        for pattern in self._patterns:
            for term in pattern.fuzzy_terms():
                fuzzy_vocab[term[0]].add(term)
        self._fuzzy_vocab: dict[str, list[str]] = {k: sorted(v) for k, v in fuzzy_vocab.items()}
        self._typo_cache: dict[str, tuple[str, ...]] = {}
        # each profile's (regions, local only, stages), numbered: checked once per notice
        keys: dict[rules.PlaceAndStage, int] = {}
        self._place_key = array(
            "q",
            (keys.setdefault(rules.place_and_stage(cp.profile), len(keys)) for cp in self.profiles),
        )
        self._place_keys: list[rules.PlaceAndStage] = list(keys)

    def _intern(self, pattern: Pattern, users: list[list[int]]) -> int:
        pid = self._pattern_ids.get(pattern)
        if pid is None:
            pid = len(self._patterns)
            self._pattern_ids[pattern] = pid
            self._patterns.append(pattern)
            users.append([])
        # equal patterns from different keywords are different objects: remember each one
        self._pid_by_object[id(pattern)] = pid
        return pid

    @property
    def pattern_count(self) -> int:
        return len(self._patterns)

    # --- typo expansion ------------------------------------------------------------------

    def _expand_typos(self, docs: Sequence[Document]) -> None:
        """Map every unknown notice word to the keyword words it may misspell (cached)."""
        todo: dict[str, set[str]] = defaultdict(set)
        for doc in docs:
            for field in doc.fields:
                for tok in field.tokens:
                    s = tok.stem
                    if (
                        len(s) >= 4
                        and s.isalpha()
                        and s not in self._typo_cache
                        and s[0] in self._fuzzy_vocab
                        and not is_known(s)
                    ):
                        todo[s[0]].add(s)
        for letter, queries_set in todo.items():
            vocab = self._fuzzy_vocab[letter]
            queries = sorted(queries_set)
            found: dict[str, list[str]] = defaultdict(list)
            chunk = max(1, 4_000_000 // max(1, len(vocab)))
            for start in range(0, len(queries), chunk):
                part = queries[start : start + chunk]
                dist = process.cdist(
                    part,
                    vocab,
                    scorer=OSA.distance,
                    score_cutoff=_MAX_EDITS,
                    dtype=np.int32,
                    workers=-1,
                )
                rows, cols = np.nonzero(dist <= _MAX_EDITS)
                for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                    key = vocab[c]
                    if int(dist[r, c]) <= allowed_edits(key) and typo_ok(key, part[r]):
                        found[part[r]].append(key)
            for q in queries:
                self._typo_cache[q] = tuple(found.get(q, ()))
        for doc in docs:
            for field in doc.fields:
                fuzzy: dict[str, list[int]] = {}
                for tok in field.tokens:
                    for key in self._typo_cache.get(tok.stem, ()):
                        lst = fuzzy.setdefault(key, [])
                        if not lst or lst[-1] != tok.pos:
                            lst.append(tok.pos)
                field.fuzzy = fuzzy

    # --- matching ------------------------------------------------------------------------

    def _hits(self, doc: Document, maybe: bool = False) -> dict[int, Hit]:
        keyword_pids = _lookup(self._anchors, (doc.title, doc.lead))
        exclusion_pids = _lookup(self._exclusion_anchors, (doc.title, doc.description))
        hits: dict[int, Hit] = {}
        for pid in keyword_pids:
            pattern = self._patterns[pid]
            t = find(pattern, doc.title)
            lead = find(pattern, doc.lead)
            if t is not None or lead is not None:
                # the description beyond the opening does not matter for a keyword pattern
                hits[pid] = Hit(t, lead, lead)
        if maybe:
            # the maybe tier reads keyword patterns anywhere ("further down the
            # description") and the related wordings in the title and the opening
            for pid in _lookup(self._anchors, (doc.description,)):
                pattern = self._patterns[pid]
                d = find(pattern, doc.description)
                if d is not None:
                    held = hits.get(pid)
                    hits[pid] = (
                        Hit(None, None, d) if held is None else Hit(held.title, held.lead, d)
                    )
            for pid in _lookup(self._related_anchors, (doc.title, doc.lead)):
                pattern = self._patterns[pid]
                t = find(pattern, doc.title)
                lead = find(pattern, doc.lead)
                if t is not None or lead is not None:
                    hits[pid] = Hit(t, lead, lead)
        for pid in exclusion_pids:
            pattern = self._patterns[pid]
            t = find(pattern, doc.title)
            d = find(pattern, doc.description)
            if t is not None or d is not None:
                lead = find(pattern, doc.lead) if d is not None else None
                hits[pid] = Hit(t, lead, d)
        return hits

    def _build_maybe(self) -> None:
        """The maybe tier's index, built on first use: the related wordings of every keyword
        (:mod:`matchers.links`) as patterns, and keywords by the CPV classes they link to."""
        if self._maybe_built:
            return
        slots = self._slots
        users: list[list[int]] = [[] for _ in self._patterns]
        self._related_anchors: dict[str, list[int]] = defaultdict(list)
        self._keyword_class: dict[str, list[int]] = defaultdict(list)
        related_pids: set[int] = set()
        for idx, cp in enumerate(self.profiles):
            for k, kw in enumerate(cp.keywords):
                maybe_patterns = [v.pattern for v in kw.broader] if tiers.VETOED else []
                if tiers.RELATED:
                    maybe_patterns.extend(r.pattern for r in tiers.related_patterns(kw.text))
                for pattern in maybe_patterns:
                    pid = self._intern(pattern, users)
                    users[pid].append(idx * slots + k)
                    related_pids.add(pid)
                if tiers.CLASS_LINKS:
                    for cls in tiers.keyword_links(kw).classes:
                        self._keyword_class[cls].append(idx * slots + k)
        self._users.extend(array("q") for _ in range(len(self._users), len(self._patterns)))
        self._maybe_users: list[array[int]] = [array("q", sorted(set(u))) for u in users]
        for pid in sorted(related_pids):
            self._related_anchors[_anchor(self._patterns[pid])].append(pid)
        self._maybe_built = True

    def match_documents(self, docs: Sequence[Document], maybe: bool = False) -> list[Match]:
        if maybe:
            self._build_maybe()
        self._expand_typos(docs)
        out: list[Match] = []
        pattern_ids = self._pattern_ids
        by_object = self._pid_by_object
        for doc in docs:
            hits = self._hits(doc, maybe)
            keyword_hits: dict[int, set[int]] = defaultdict(set)
            maybe_hits: dict[int, set[int]] = defaultdict(set)
            slots = self._slots
            for pid, h in hits.items():
                # keywords count in the title and the description's opening only; patterns
                # found further down matter only as exclusions (and for the maybe tier)
                if h.title is not None or h.lead is not None:
                    for user in self._users[pid]:
                        keyword_hits[user // slots].add(user % slots)
                if maybe:
                    for group in (self._users[pid], self._maybe_users[pid]):
                        for user in group:
                            maybe_hits[user // slots].add(user % slots)
            for code in doc.cpv[:1]:  # the main code (see rules._inferred_cpv)
                for n in range(self._min_prefix, len(code) + 1):
                    for user in self._keyword_cpv.get(code[:n], ()):
                        keyword_hits[user // slots].add(user % slots)
            if maybe:
                for code in doc.cpv if tiers.CLASS_ALL_CODES else doc.cpv[:1]:
                    cls = cpv_codes.significant(code)[: inference.TRADE_DIGITS]
                    for user in self._keyword_class.get(cls, ()):
                        maybe_hits[user // slots].add(user % slots)
            if self._trade_heads and doc.cpv:
                cls = doc.cpv[0][: inference.TRADE_DIGITS]
                for key in doc.title.exact:
                    for user in self._trade_heads.get((cls, key), ()):
                        keyword_hits[user // slots].add(user % slots)
            profiles = set(keyword_hits)
            for code in doc.cpv:
                for n in range(2, len(code) + 1):
                    got = self._cpv.get(code[:n])
                    if got:
                        profiles.update(got)
            profiles.update(maybe_hits)

            def hit(pattern: Pattern, hits: dict[int, Hit] = hits) -> Hit | None:
                pid = by_object.get(id(pattern))
                if pid is None:
                    pid = pattern_ids.get(pattern)
                return hits.get(pid) if pid is not None else None

            place_ok: dict[int, bool] = {}
            for idx in sorted(profiles):
                place = self._place_key[idx]
                ok = place_ok.get(place)
                if ok is None:
                    ok = place_ok[place] = rules.place_and_stage_pass(self._place_keys[place], doc)
                if not ok:
                    continue  # evaluate() would say no for the same reason
                cp = self.profiles[idx]
                m = evaluate(cp, doc, hit, keyword_hits.get(idx, ()))
                if m is None and maybe and idx in maybe_hits:
                    m = tiers.evaluate_maybe(cp, doc, hit, maybe_hits[idx])
                if m is not None:
                    out.append(m)
        return out

    def match(self, notices: Iterable[Notice]) -> list[Match]:
        """Every sure match (tier ``alert``), grouped by notice in input order, profiles in
        their given order. What the bot sends as instant alerts."""
        return self.match_documents([prepare(n) for n in notices])

    def match_tiers(self, notices: Iterable[Notice]) -> list[Match]:
        """Both tiers: every :meth:`match` result (``tier="alert"``) and, for the pairs the
        sure rules turn down, the ``tier="maybe"`` matches of :mod:`matchers.tiers`. Same
        order as :meth:`match`; at most one match per (profile, notice)."""
        return self.match_documents([prepare(n) for n in notices], maybe=True)


def _anchor(pattern: Pattern) -> str:
    """The term to file a pattern under: any term would do (all are required), so the one
    least likely to be in a notice, judged by how many CPV labels use it (the procurement
    vocabulary: "servic" is in thousands, "employ" in a handful), then the longest.
    Fewer patterns to verify per notice, the same matches."""
    counts = cpv_codes.stem_counts()
    return min(pattern.terms, key=lambda t: (counts.get(t, 0), -len(t), t))


def _lookup(anchors: dict[str, list[int]], fields: Iterable[Field]) -> set[int]:
    """Patterns anchored on a key (exact or typo-expanded) of one of ``fields``."""
    out: set[int] = set()
    for field in fields:
        for keys in (field.exact, field.fuzzy):
            for key in keys:
                got = anchors.get(key)
                if got:
                    out.update(got)
    return out
