"""Learning from a subscriber's 👍 and 👎: what to offer them to change in their profile.

A profile is a handful of words typed once; the answers to its alerts say what those words
missed and what they caught by accident. Three pure functions read the answers and return
offers the bot can put to the subscriber (it never changes a profile on its own):

* :func:`suggest_keywords` – words that several liked notices share and no keyword says
  ("You liked 3 notices about befriending — add it?"). A liked ``maybe`` notice teaches most:
  the rules did not find it sure.
* :func:`suggest_exclusions` – the word that sets disliked notices apart from the liked ones,
  next to the keyword that matched ("debt" of "debt recovery"), offered as an exclusion
  instead of muting the whole keyword.
* :func:`wants_strict` – a profile whose answers are mostly 👎 gets the stricter rules
  (:attr:`matchers.profile.Profile.strict`): its single words need a second signal.

:func:`apply` turns accepted offers into a new :class:`~matchers.profile.Profile`. Words are
compared as the matcher compares them (stems), and only words of the procurement vocabulary
are offered (the CPV labels' and the lexicon's: not "ensure", place names, reference numbers
or typos). Deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

from feeds.notice import Notice
from matchers import cpv as cpv_codes
from matchers.lexicon import lexicon_words
from matchers.links import document_frequencies
from matchers.profile import Profile
from matchers.rules import LEAD_WORDS
from matchers.text import STOPWORDS, Token, stem, tokenize

KEYWORD = "keyword"
EXCLUDE = "exclude"
STRICT = "strict"

#: A word is offered as a keyword when this many liked notices use it (in the title or the
#: description's opening) and at most ``MAX_DISLIKED`` disliked ones.
MIN_LIKED = 2
MAX_DISLIKED = 0
#: One liked notice is enough when the rules had it only as "maybe" and the word is in its
#: title: that notice is exactly what the keywords missed.
MIN_LIKED_MAYBE = 1
#: Words that one notice in this many uses say nothing about a trade ("services", "council").
COMMON_SHARE = 0.05
#: A lone word offered as an exclusion must be this rare in notices (one in a hundred): a
#: common one would veto notices the subscriber wants.
RARE = 0.01
#: A lone word is offered as an exclusion when this many disliked notices share it.
MIN_DISLIKED_WORD = 2
#: A profile gets the stricter rules after this many alert answers, when this share are 👎.
STRICT_ANSWERS = 3
STRICT_SHARE = 0.6
#: Offers of each kind, at most.
MAX_OFFERS = 3

#: Words of every notice that are never a trade of their own.
_NOTICE_WORDS = frozenset(
    [
        "contract",
        "contracts",
        "framework",
        "tender",
        "lot",
        "lots",
        "provision",
        "provider",
        "providers",
        "service",
        "services",
        "supply",
        "delivery",
        "council",
        "county",
        "borough",
        "city",
        "district",
        "authority",
        "nhs",
        "trust",
        "procurement",
        "award",
        "notice",
        "opportunity",
        "programme",
        "project",
        "scheme",
        "support",
        "new",
        "year",
        "years",
    ]
)


@dataclass(frozen=True, slots=True)
class Answer:
    """One 👍 or 👎 on a notice the subscriber was sent (alert or maybe)."""

    notice: Notice
    liked: bool
    matched_keywords: tuple[str, ...] = ()
    tier: str = "alert"


@dataclass(frozen=True, slots=True)
class Offer:
    """A change to put to the subscriber, with the notices behind it."""

    kind: str  # KEYWORD, EXCLUDE or STRICT
    text: str  # the word or phrase to add ("" for STRICT)
    notices: tuple[str, ...]  # ocids of the answers that support it
    message: str  # what the bot asks, ready to print


def _content(tokens: Iterable[Token], common: bool = False, any_word: bool = False) -> list[Token]:
    """Words worth offering: procurement vocabulary (any word at all with ``any_word``, for
    a phrase that pins an exclusion to its keyword: "cyber security"), not little words, not
    the words every notice uses; common words only inside a phrase (``common=True``)."""
    return [
        t
        for t in tokens
        if t.lower not in STOPWORDS
        and t.lower not in _NOTICE_WORDS
        and t.lower.isalpha()
        and len(t.lower) > 3
        and (any_word or t.stem in _trade_vocabulary())
        and (common or not _common(t.stem))
    ]


@lru_cache(maxsize=1)
def _trade_vocabulary() -> frozenset[str]:
    """Stems of the words procurement uses to name what is bought: the CPV labels' and the
    lexicon's. "Ensure", "between", "applicant" or a place name are never offered."""
    words = {t.stem for text in cpv_codes.labels().values() for t in tokenize(text)}
    words.update(stem(w) for w in lexicon_words())
    return frozenset(words)


def _common(word_stem: str) -> bool:
    n, df = document_frequencies()
    return n > 0 and df.get(word_stem, 0) >= COMMON_SHARE * n


def _profile_stems(profile: Profile) -> frozenset[str]:
    words = (*profile.keywords, *profile.exclude)
    return frozenset(t.stem for w in words for t in tokenize(w))


def _terms(notice: Notice, title_only: bool = False) -> dict[str, str]:
    """Candidate words and two-word phrases of a notice: stem key -> surface (lower case).
    Phrases are two content words next to each other ("community meals")."""
    title = tokenize(notice.title or "")
    tokens = title if title_only else title + tokenize(notice.description or "")[:LEAD_WORDS]
    out: dict[str, str] = {}
    for t in _content(tokens):
        out.setdefault(t.stem, t.lower)
    kept = {id(t) for t in _content(tokens, common=True)}
    for a, b in pairwise(tokens):
        if b.pos == a.pos + 1 and id(a) in kept and id(b) in kept:
            out.setdefault(f"{a.stem} {b.stem}", f"{a.lower} {b.lower}")
    return out


def suggest_keywords(profile: Profile, answers: Sequence[Answer]) -> list[Offer]:
    """Words that liked notices share and the profile lacks (most supported first)."""
    have = _profile_stems(profile)
    liked: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    disliked: dict[str, int] = {}
    maybe_titles: dict[str, list[str]] = {}
    for a in answers:
        terms = _terms(a.notice)
        if a.liked:
            for key, text in terms.items():
                liked.setdefault(key, []).append(a.notice.ocid)
                shown.setdefault(key, text)
            if a.tier == "maybe":
                for key in _terms(a.notice, title_only=True):
                    maybe_titles.setdefault(key, []).append(a.notice.ocid)
        else:
            for key in terms:
                disliked[key] = disliked.get(key, 0) + 1
    offers: list[tuple[tuple[int, int, str], Offer]] = []
    for key, ocids in liked.items():
        if set(key.split()) <= have or disliked.get(key, 0) > MAX_DISLIKED:
            continue
        if not _offerable(key, len(ocids), len(maybe_titles.get(key, ()))):
            continue
        text = shown[key]
        n = len(ocids)
        message = (
            f"You liked {n} notices about {text} — add it as a keyword?"
            if n > 1
            else f"You liked a notice about {text} — add it as a keyword?"
        )
        phrase = " " in key
        offers.append(((-n, -phrase, key), Offer(KEYWORD, text, tuple(ocids), message)))
    return _best(offers)


def _offerable(key: str, liked: int, liked_maybe_titles: int) -> bool:
    """A keyword offer must be specific: a new keyword makes instant alerts. A word needs
    ``MIN_LIKED`` liked notices and must be rare (``RARE``); a two-word phrase needs the same
    liked notices, or the title of one liked maybe, and one rare word."""
    n, df = document_frequencies()
    stems = key.split()
    rare = any(df.get(s, 0) <= RARE * n for s in stems)
    if len(stems) == 1:
        return liked >= MIN_LIKED and rare
    return rare and (liked >= MIN_LIKED or liked_maybe_titles >= MIN_LIKED_MAYBE)


def suggest_exclusions(profile: Profile, answers: Sequence[Answer]) -> list[Offer]:
    """For disliked notices: the word that sets them apart, near the keyword that matched."""
    have = _profile_stems(profile)
    single = frozenset(toks[0].stem for k in profile.keywords if len(toks := tokenize(k)) == 1)
    liked_terms: set[str] = set()
    for a in answers:
        if a.liked:
            liked_terms.update(k for k in _terms(a.notice) if " " not in k)
    found: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    closeness: dict[str, int] = {}
    for a in answers:
        if a.liked:
            continue
        for key, text, distance in _distinguishing(a, have, liked_terms, single):
            found.setdefault(key, []).append(a.notice.ocid)
            shown.setdefault(key, text)
            closeness[key] = min(distance, closeness.get(key, distance))
    offers: list[tuple[tuple[int, int, str], Offer]] = []
    for key, ocids in found.items():
        if " " not in key and len(ocids) < MIN_DISLIKED_WORD:
            continue  # a lone word vetoes anywhere: only when disliked notices share it
        n, text = len(ocids), shown[key]
        message = (
            f"You turned down {n} notices about {text} — stop sending notices that mention it?"
            if n > 1
            else f"You turned down a notice about {text} — stop sending notices that mention it?"
        )
        offers.append(((-n, closeness[key], key), Offer(EXCLUDE, text, tuple(ocids), message)))
    return _best(offers)


def _distinguishing(
    answer: Answer, have: frozenset[str], liked_terms: set[str], single: frozenset[str]
) -> list[tuple[str, str, int]]:
    """What sets a disliked notice apart, from its title. Next to a one-word keyword, the word
    with it as a phrase ("debt recovery" for ``recovery``: only that sense is excluded); next
    to a phrase keyword, the word with its own neighbour ("residential care" in "older
    people's residential care"); failing those, title words no liked notice uses and few
    notices use at all (one in a hundred). (key, text, 0 for a phrase or 1 for a word)."""
    title = tokenize(answer.notice.title or "")
    content = {id(t) for t in _content(title, common=True, any_word=True)}

    def fresh(t: Token) -> bool:
        return id(t) in content and t.stem not in have and t.stem not in liked_terms

    for i, tok in enumerate(title):
        if tok.stem not in have:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(title) or abs(title[j].pos - tok.pos) != 1 or not fresh(title[j]):
                continue
            word = title[j]
            if tok.stem in single:
                a, b = (word, tok) if j < i else (tok, word)
            else:
                k = j - 1 if j < i else j + 1
                other = title[k] if 0 <= k < len(title) else None
                if other is None or abs(other.pos - word.pos) != 1 or not fresh(other):
                    continue
                a, b = (other, word) if k < j else (word, other)
            return [(f"{a.stem} {b.stem}", f"{a.lower} {b.lower}", 0)]
    n, df = document_frequencies()
    return [
        (t.stem, t.lower, 1)
        for t in _content(title)
        if t.stem not in have and t.stem not in liked_terms and df.get(t.stem, 0) <= RARE * n
    ]


def wants_strict(answers: Sequence[Answer]) -> bool:
    """Mostly 👎 (``STRICT_SHARE`` of at least ``STRICT_ANSWERS`` alert answers): the rules
    are too loose for this profile's words."""
    alerts = [a for a in answers if a.tier == "alert"]
    if len(alerts) < STRICT_ANSWERS:
        return False
    return sum(not a.liked for a in alerts) / len(alerts) >= STRICT_SHARE


def offers(profile: Profile, answers: Sequence[Answer]) -> list[Offer]:
    """Everything to put to the subscriber now: keywords, exclusions, stricter rules."""
    out = [*suggest_keywords(profile, answers), *suggest_exclusions(profile, answers)]
    if wants_strict(answers) and not profile.strict:
        bad = tuple(a.notice.ocid for a in answers if not a.liked)
        out.append(
            Offer(
                STRICT,
                "",
                bad,
                f"You turned down {len(bad)} of your last {len(answers)} alerts — "
                "send only the surest matches at once (the rest in your digest)?",
            )
        )
    return out


def apply(profile: Profile, accepted: Iterable[Offer]) -> Profile:
    """The profile with the accepted offers made (keywords and exclusions appended once)."""
    keywords, exclude, strict = list(profile.keywords), list(profile.exclude), profile.strict
    for offer in accepted:
        if offer.kind == KEYWORD and offer.text not in keywords:
            keywords.append(offer.text)
        elif offer.kind == EXCLUDE and offer.text not in exclude:
            exclude.append(offer.text)
        elif offer.kind == STRICT:
            strict = True
    return replace(profile, keywords=tuple(keywords), exclude=tuple(exclude), strict=strict)


def _best(ranked: list[tuple[tuple[int, int, str], Offer]]) -> list[Offer]:
    return [offer for _, offer in sorted(ranked, key=lambda r: r[0])[:MAX_OFFERS]]
