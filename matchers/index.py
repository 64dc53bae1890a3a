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
from matchers.keywords import Field, Keyword, Pattern, allowed_edits, find, typo_ok
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

    def _hits(self, doc: Document) -> dict[int, Hit]:
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
        for pid in exclusion_pids:
            pattern = self._patterns[pid]
            t = find(pattern, doc.title)
            d = find(pattern, doc.description)
            if t is not None or d is not None:
                lead = find(pattern, doc.lead) if d is not None else None
                hits[pid] = Hit(t, lead, d)
        return hits

    def build_maybe(self) -> None:
        """The maybe tier's index, built on first use (then reused like the rest).

        Strong maybe evidence is a keyword or a broader synonym in the title or the opening:
        keywords are in the main index already, broader synonyms are filed here. Every other
        source (further down the description, related CPV wordings, class links) counts only
        when the enterprise's description is like the notice, so the profiles to read for
        them are the ones whose description is like it: the descriptions' vectors are filed
        by word (postings of profile numbers and weights) and scored for each notice with
        numpy, instead of following every weak hit to its thousands of profiles."""
        if self._maybe_built:
            return
        slots = self._slots
        text_ids: dict[str, int] = {}
        text_users: list[list[int]] = []
        first: list[Keyword] = []
        profile_texts: list[tuple[int, ...]] = []
        for idx, cp in enumerate(self.profiles):
            mine: list[int] = []
            for k, kw in enumerate(cp.keywords):
                tid = text_ids.get(kw.text)
                if tid is None:
                    tid = text_ids[kw.text] = len(first)
                    first.append(kw)
                    text_users.append([])
                text_users[tid].append(idx * slots + k)
                mine.append(tid)
            profile_texts.append(tuple(mine))  # keyword index -> text id
        self._text_users: list[array[int]] = [array("q", u) for u in text_users]
        self._profile_texts = profile_texts
        texts: list[list[int]] = [[] for _ in self._patterns]
        broader: set[int] = set()
        related: set[int] = set()
        weak: list[frozenset[int]] = []
        for tid, kw in enumerate(first):
            own = {self._pattern_ids[v.pattern] for v in kw.variants}
            if tiers.VETOED:
                for v in kw.broader:
                    pid = self._intern(v.pattern, texts)
                    texts[pid].append(tid)
                    broader.add(pid)
            if tiers.RELATED:
                for rel in tiers.related_patterns(kw.text):
                    pid = self._intern(rel.pattern, texts)
                    related.add(pid)
                    own.add(pid)
            weak.append(frozenset(own))
            tiers.keyword_links(kw)  # computed once here, not during a poll
        # which texts each weak pattern belongs to, and each profile's texts as a table
        pid_texts: dict[int, list[int]] = defaultdict(list)
        for tid, pids in enumerate(weak):
            for pid in pids:
                pid_texts[pid].append(tid)
        self._pid_texts: dict[int, np.ndarray] = {
            pid: np.array(tids, dtype=np.int64) for pid, tids in pid_texts.items()
        }
        self._n_texts = len(first)
        width = max((len(t) for t in profile_texts), default=0)
        table = np.full((len(profile_texts), max(1, width)), len(first), dtype=np.int64)
        for idx, tids in enumerate(profile_texts):
            table[idx, : len(tids)] = tids
        self._profile_table = table  # padded with a text id that never has a hit
        self._users.extend(array("q") for _ in range(len(self._users), len(self._patterns)))
        # patterns whose hit may give weak evidence, per keyword text: its own patterns
        # anywhere in the description, its related wordings in the title or the opening
        self._text_weak = weak
        self._broader_texts: dict[int, array[int]] = {
            pid: array("q", sorted(set(texts[pid]))) for pid in broader
        }
        self._broader_anchors: dict[str, list[int]] = defaultdict(list)
        for pid in sorted(broader):
            self._broader_anchors[_anchor(self._patterns[pid])].append(pid)
        self._related_anchors: dict[str, list[int]] = defaultdict(list)
        for pid in sorted(related):
            self._related_anchors[_anchor(self._patterns[pid])].append(pid)
        # the descriptions, by word: (profile numbers, weights) per word, built in bulk
        vocab: dict[str, int] = {}
        word_ids: list[int] = []
        owners: list[int] = []
        weights: list[float] = []
        for idx, cp in enumerate(self.profiles):
            vector = tiers.text_vector(cp.profile.description)
            for word, weight in vector:
                word_ids.append(vocab.setdefault(word, len(vocab)))
                owners.append(idx)
                weights.append(weight)
        ids = np.array(word_ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        owner_arr = np.array(owners, dtype=np.int64)[order]
        weight_arr = np.array(weights, dtype=np.float64)[order]
        bounds = np.searchsorted(sorted_ids, np.arange(len(vocab) + 1))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {
            word: (owner_arr[bounds[i] : bounds[i + 1]], weight_arr[bounds[i] : bounds[i + 1]])
            for word, i in vocab.items()
        }
        self._maybe_built = True

    def _like(self, doc: Document, floor: float) -> np.ndarray:
        """Profiles whose description is at least ``floor`` like the notice (a pre-filter:
        :func:`matchers.tiers.evaluate_maybe` recomputes the exact figure)."""
        scores = np.zeros(len(self.profiles), dtype=np.float64)
        for word, weight in tiers.notice_vector(doc).items():
            got = self._postings.get(word)
            if got is not None:
                scores[got[0]] += weight * got[1]
        return np.flatnonzero(scores >= floor - 1e-9)

    def _weak_hits(self, doc: Document) -> set[int]:
        """Patterns that give weak evidence in this notice: keyword patterns anywhere in the
        description, related wordings in the title or the opening."""
        found: set[int] = set()
        for pid in _lookup(self._anchors, (doc.description,)):
            if find(self._patterns[pid], doc.description) is not None:
                found.add(pid)
        for pid in _lookup(self._related_anchors, (doc.title, doc.lead)):
            pattern = self._patterns[pid]
            if find(pattern, doc.title) is not None or find(pattern, doc.lead) is not None:
                found.add(pid)
        return found

    def _maybe_candidates(
        self, doc: Document, keyword_hits: dict[int, set[int]]
    ) -> dict[int, set[int]]:
        """Every profile that can have maybe evidence, with the keywords that can give it: a
        keyword hit in the title or the opening, a broader synonym there, or (when the
        description is like the notice) a weak hit: a keyword further down, a related
        wording. A keyword without any of these gives no evidence, so reading only these
        changes nothing but the time taken."""
        slots = self._slots
        found: dict[int, set[int]] = {idx: set(ks) for idx, ks in keyword_hits.items()}
        for pid in _lookup(self._broader_anchors, (doc.title, doc.lead)):
            pattern = self._patterns[pid]
            if find(pattern, doc.title) is None and find(pattern, doc.lead) is None:
                continue
            for tid in self._broader_texts[pid]:
                for user in self._text_users[tid]:
                    found.setdefault(user // slots, set()).add(user % slots)
        floor = tiers.weak_floor()
        if floor is None:  # weak evidence may count anywhere: read every profile
            return {idx: set(range(len(cp.keywords))) for idx, cp in enumerate(self.profiles)}
        weak_hits = self._weak_hits(doc)
        if not weak_hits:
            return found
        hit_text = np.zeros(self._n_texts + 1, dtype=bool)
        for pid in weak_hits:
            got = self._pid_texts.get(pid)
            if got is not None:
                hit_text[got] = True
        like = self._like(doc, floor)
        if not len(like):
            return found
        rows = hit_text[self._profile_table[like]]  # profile x keyword: a weak hit?
        for r, c in zip(*np.nonzero(rows), strict=True):
            found.setdefault(int(like[r]), set()).add(int(c))
        return found

    def match_documents(self, docs: Sequence[Document], maybe: bool = False) -> list[Match]:
        if maybe:
            self.build_maybe()
        self._expand_typos(docs)
        out: list[Match] = []
        pattern_ids = self._pattern_ids
        by_object = self._pid_by_object
        for doc in docs:
            hits = self._hits(doc)
            keyword_hits: dict[int, set[int]] = defaultdict(set)
            slots = self._slots
            for pid, h in hits.items():
                # keywords count in the title and the description's opening only; patterns
                # found further down matter only as exclusions
                if h.title is not None or h.lead is not None:
                    for user in self._users[pid]:
                        keyword_hits[user // slots].add(user % slots)
            for code in doc.cpv[:1]:  # the main code (see rules._inferred_cpv)
                for n in range(self._min_prefix, len(code) + 1):
                    for user in self._keyword_cpv.get(code[:n], ()):
                        keyword_hits[user // slots].add(user % slots)
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
            maybe_profiles = self._maybe_candidates(doc, keyword_hits) if maybe else {}
            profiles.update(maybe_profiles)

            def hit(pattern: Pattern, hits: dict[int, Hit] = hits) -> Hit | None:
                pid = by_object.get(id(pattern))
                if pid is None:
                    pid = pattern_ids.get(pattern)
                return hits.get(pid) if pid is not None else None

            full: dict[int, Hit | None] = {}
            keys = (doc.title.exact, doc.title.fuzzy, doc.description.exact, doc.description.fuzzy)

            def anywhere(
                pattern: Pattern,
                doc: Document = doc,
                full: dict[int, Hit | None] = full,
                keys: tuple[dict[str, list[int]], ...] = keys,
            ) -> Hit | None:
                """Where a pattern occurs in the title, the opening and the whole
                description (what the brute-force reference computes), read when asked and
                kept for the notice (patterns are shared objects: keyed by identity)."""
                key = id(pattern)
                if key in full:
                    return full[key]
                got = None
                if all(any(t in k for k in keys) for t in pattern.terms):
                    t = find(pattern, doc.title)
                    d = find(pattern, doc.description)
                    if t is not None or d is not None:
                        got = Hit(t, find(pattern, doc.lead) if d is not None else None, d)
                full[key] = got
                return got

            place_ok: dict[int, bool] = {}
            for idx in sorted(profiles):
                place = self._place_key[idx]
                ok = place_ok.get(place)
                if ok is None:
                    ok = place_ok[place] = rules.place_and_stage_pass(self._place_keys[place], doc)
                if not ok:
                    continue  # evaluate() would say no for the same reason
                cp = self.profiles[idx]
                if maybe and not rules.filters_pass(cp, doc)[0]:
                    continue  # neither tier passes the value, suitability or region filters
                m = evaluate(cp, doc, hit, keyword_hits.get(idx, ()))
                if m is None and idx in maybe_profiles:
                    m = tiers.evaluate_maybe(cp, doc, anywhere, maybe_profiles[idx])
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
