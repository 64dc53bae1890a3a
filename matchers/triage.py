"""Enquiry triage: which topic a question is about, where the sender is, and which adviser gets it.

Pure: plain frozen dataclasses in and out, stdlib and rapidfuzz only, no database, no bot.

* :func:`classify` scores the text against an editable lexicon (:mod:`matchers.triage_lexicon`)
  after removing what is not the question: quoted replies, signatures, sign-offs, contact blocks
  and legal disclaimers. Sentences that ask something weigh double, the subject counts 1.5x,
  longer phrases beat the words inside them, and rapidfuzz forgives typos in longer words.
  Weak or split evidence means low confidence, and low confidence means the duty adviser.
* :func:`detect_region` reads places and postcodes (:mod:`matchers.places`).
* :func:`route` picks the adviser: topic first, then region, then relative load; never someone
  away, full or excluded (someone who passed the enquiry on); else the duty adviser; else
  whoever is least loaded, saying so.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from feeds.notice import Notice
from matchers import cpv, places
from matchers.triage_lexicon import (
    EXTRA_WORD_WEIGHT,
    LEXICON,
    NEUTRAL,
    NOT_TYPOS,
    SETTING,
    TOPICS,
)
from matchers.triage_model import Features, TopicModel, features, load_model

GENERAL = "general"
MIN_CONFIDENCE = 0.3
"""Below this the enquiry goes to the duty adviser, whatever topic scored best."""
MAX_TEXT = 50_000
"""Characters of an enquiry that are read; the rest of a giant paste adds nothing."""

QUESTION_WEIGHT = 2.0
SUBJECT_WEIGHT = 1.5
BODY_WEIGHT = 1.0
BACKGROUND_WEIGHT = 0.5
"""A sentence that asks nothing, in a message that does ask something: background."""
NO_QUESTION_FACTOR = 0.7
"""Confidence is scaled by this when nothing in the message asks anything (thanks, news)."""
SETTING_FACTOR = 0.5

MODEL_MIN_CONFIDENCE = 0.3
"""With the topic model: below this probability the enquiry goes to the duty adviser, with the
best guess named in the reasons (chosen on dev, docs/triage.md)."""
ALSO_SHARE = 0.25
"""A runner-up topic this likely is named in the reasons ("also legal (0.31: ...)")."""
NOTICE_WEIGHT = 0.3
"""Weight of each sentence of the notice an enquiry is about: a hint, not the question."""
MAX_NOTICE_TEXT = 3000
NOTICE_TENDERING_PRIOR = 2.0
"""Odds multiplier for tendering when the enquiry is about a notice (the topic model path)."""
NOTICE_TENDERING_LEAN = 1.0
"""Score added to tendering when the enquiry is about a notice (the lexicon path)."""


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Adviser:
    """One SEEM adviser as the roster describes them (``open`` is their current load)."""

    id: str
    name: str
    topics: tuple[str, ...]
    capacity: int
    regions: tuple[str, ...] = ()
    away: bool = False
    open: int = 0
    email: str | None = None
    telegram_id: int | None = None

    @property
    def available(self) -> bool:
        """Not away and not full."""
        return not self.away and self.open < self.capacity

    @property
    def region_wide(self) -> bool:
        return not self.regions or any(
            r.strip().lower() == places.EAST_MIDLANDS.lower() for r in self.regions
        )


@dataclass(frozen=True)
class Enquiry:
    """A question to triage.

    ``region``: the sender's base when known for sure (it wins over everything). Otherwise the
    region is read from the text, and when the text names none, from ``profile_regions`` (the
    regions of the enterprise's alert profile). ``notice_text``: the notice the question is
    about (the ❓ button on an alert; see :func:`notice_text_of`), which hints at the topic.
    """

    id: str
    text: str
    subject: str | None = None
    region: str | None = None
    notice_text: str | None = None
    profile_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicResult:
    """What :func:`classify` found: the topic, how sure, every topic's score, and why."""

    topic: str
    confidence: float
    scores: Mapping[str, float]
    reasons: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Topic -> the lexicon terms that matched, strongest first."""
    best: str = GENERAL
    """The best-scoring topic even when confidence was too low to use it."""
    method: str = "lexicon"
    """"model" (topic model: ``scores`` are probabilities) or "lexicon" (raw lexicon scores)."""


@dataclass(frozen=True)
class Candidate:
    """An adviser who could take the enquiry, in the order :func:`route` ranks them."""

    adviser_id: str
    role: str
    """"topic" (covers the topic), "duty" (the duty adviser) or "fallback" (anyone available)."""
    region_match: str
    """"region" (covers the sender's region), "near" (the city's county or the county's city),
    "region-wide", or "other"."""
    open: int
    capacity: int

    @property
    def load(self) -> float:
        return self.open / self.capacity if self.capacity > 0 else math.inf


@dataclass(frozen=True)
class Route:
    """Where an enquiry goes and why. ``adviser_id`` is None only when nobody is available."""

    enquiry_id: str
    topic: str
    adviser_id: str | None
    confidence: float
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    region: str | None = None


class TriageInputError(ValueError):
    """A roster or enquiry that does not follow the documented format (message names the item
    and the field)."""


# --------------------------------------------------------------------------------------------
# Cleaning: keep the question, drop the rest


_QUOTE_HEADER = re.compile(
    r"^\s*(on\b.{0,200}\bwrote:?\s*$|-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message"
    r"|_{8,}\s*$|from:\s.+|sent from my \w+)",
    re.IGNORECASE,
)
_ON_LINE = re.compile(r"^\s*on\b.{0,200}$", re.IGNORECASE)
_WROTE_LINE = re.compile(r"^.{0,200}\bwrote:\s*$", re.IGNORECASE)
_SIGNOFF = re.compile(
    r"^\s*(?:many |kind |best |warm |warmest |with |all the |thanks and )?"
    r"(?:thanks|thank you|thankyou|thx|regards|wishes|cheers|ta|best|yours|sincerely"
    r"|faithfully|speak soon|take care|bw|kr)\b"
    r"(?:\s+(?:again|in advance|so much|very much|for your help|for any help|sincerely"
    r"|faithfully|truly))?[\s,.!:;-]*([A-Za-z][\w.'-]*(?:\s+[A-Za-z][\w.'-]*){0,2})?[\s,.!]*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"this e-?mail and any|this message and any|intended (?:solely|only) for|intended recipient"
    r"|received this (?:e-?mail|message) in error|confidential and may|privileged"
    r"|views expressed|virus|registered in england|registered office|company (?:registration )?"
    r"(?:no|number)|registered charity|charity (?:no|number)|before printing|disclaimer"
    r"|^\s*confidential",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"(?:\b(?:tel|telephone|phone|mob|mobile|fax|e|email|w|web)\s*[:.]"
    r"|@[\w-]+\.|https?://|www\.|(?:\+44|\b0)\s?\d{2,4}[\s-]?\d{3}[\s-]?\d{3,4}\b)",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b.{0,30}$", re.IGNORECASE
)


def clean_email(text: str) -> str:
    """The part of a message its sender wrote for this question.

    Cuts at the first quoted reply ("On ... wrote:", "-----Original Message-----", "From: ..."),
    drops lines quoted with ">", cuts at the signature ("--" or a short sign-off such as
    "Thanks, Sam" once the message has started), and drops disclaimer paragraphs and contact
    lines (phones, emails, web addresses). What remains is what the topic is read from.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    content_seen = 0
    skipping_disclaimer = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            continue
        if stripped in ("--", "-- ", "__", "---"):
            break
        if _QUOTE_HEADER.match(stripped):
            break
        if (
            _ON_LINE.match(stripped)
            and i + 1 < len(lines)
            and _WROTE_LINE.match(lines[i + 1].strip())
            and len(stripped) > 10
        ):
            break
        if content_seen and _SIGNOFF.match(stripped) and len(stripped.split()) <= 6:
            break
        if not stripped:
            skipping_disclaimer = False
            kept.append("")
            continue
        if skipping_disclaimer or _DISCLAIMER.search(stripped):
            skipping_disclaimer = True
            continue
        if _CONTACT.search(stripped) and len(stripped.split()) <= 12:
            continue
        if not content_seen and _GREETING.match(stripped) and len(stripped.split()) <= 5:
            continue
        kept.append(line)
        content_seen += 1
    return "\n".join(kept).strip()


def strip_quoted(text: str) -> str:
    """The message without earlier messages quoted in it (signature kept: it says where the
    sender is based)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            continue
        if _QUOTE_HEADER.match(stripped) and not stripped.lower().startswith("sent from"):
            break
        if (
            _ON_LINE.match(stripped)
            and i + 1 < len(lines)
            and _WROTE_LINE.match(lines[i + 1].strip())
            and len(stripped) > 10
        ):
            break
        kept.append(line)
    return "\n".join(kept)


# --------------------------------------------------------------------------------------------
# Tokens and sentences


_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_ASK_START = re.compile(
    r"^(?:so |and |but |also |please |hi |ok |okay |quick question )?(?:how|what|which|who|where"
    r"|when|why|can|could|would|should|do|does|did|is|are|will|may|might|shall|any|anyone"
    r"|need|we need|i need|we re looking|we are looking|looking for|i m looking|advice|help"
    r"|please advise|wondering|i was wondering|we were wondering|is it possible|we d like"
    r"|i d like|we would like|i would like|we want to|i want to|want to know|not sure"
    r"|we re not sure|we are not sure|i m not sure|i am not sure|struggling|we re struggling"
    r"|we are struggling)\b"
)
_META_NEGATIONS = (
    "not about",
    "not really about",
    "isnt about",
    "isnt really about",
    "not a",
    "not an",
    "isnt a",
    "isnt an",
    "nothing to do with",
    "not related to",
    "unrelated to",
    "not asking about",
    "not a question about",
)


def _fold(text: str) -> str:
    """Lower case ASCII-ish text with apostrophes removed and '&' spelled out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("'", "").replace("&", " and ")
    return text


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_fold(text))


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def is_question(sentence: str) -> bool:
    """True for a sentence that asks: a '?', or an opening like "how do we", "can we"."""
    if "?" in sentence:
        return True
    return bool(_ASK_START.match(" ".join(tokens(sentence))))


# --------------------------------------------------------------------------------------------
# Lexicon compilation


@dataclass(frozen=True)
class _Term:
    topic: str | None  # None: neutral phrase
    text: str
    words: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class _CompiledLexicon:
    terms: tuple[_Term, ...]
    by_first_exact: Mapping[str, tuple[_Term, ...]]
    by_first_prefix: Mapping[str, tuple[_Term, ...]]
    vocabulary: frozenset[str]
    fuzzy_targets: tuple[str, ...]


def _term_words(text: str) -> tuple[str, ...]:
    words = []
    for raw in _fold(text).split():
        star = raw.endswith("*")
        core = "".join(_TOKEN.findall(raw))
        if core:
            words.append(core + ("*" if star else ""))
    return tuple(words)


def _compile(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> _CompiledLexicon:
    terms: list[_Term] = []
    for topic, entries in LEXICON.items():
        for text, weight in entries:
            words = _term_words(text)
            if words:
                terms.append(_Term(topic, text, words, weight))
    for topic, extra_words in extra:
        for text in extra_words:
            words = _term_words(text)
            if words:
                terms.append(_Term(topic, text.strip().lower(), words, EXTRA_WORD_WEIGHT))
    for text in NEUTRAL:
        words = _term_words(text)
        if words:
            terms.append(_Term(None, text, words, 0.0))
    exact: dict[str, list[_Term]] = {}
    prefix: dict[str, list[_Term]] = {}
    vocabulary: set[str] = set()
    for term in terms:
        first = term.words[0]
        if first.endswith("*"):
            prefix.setdefault(first[:-1], []).append(term)
        else:
            exact.setdefault(first, []).append(term)
        for word in term.words:
            vocabulary.add(word.rstrip("*"))
    fuzzy = tuple(sorted(w for w in vocabulary if len(w) >= 6))
    return _CompiledLexicon(
        terms=tuple(terms),
        by_first_exact=MappingProxyType({k: tuple(v) for k, v in exact.items()}),
        by_first_prefix=MappingProxyType({k: tuple(v) for k, v in prefix.items()}),
        vocabulary=frozenset(vocabulary),
        fuzzy_targets=fuzzy,
    )


@lru_cache(maxsize=32)
def _lexicon(extra: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> _CompiledLexicon:
    return _compile(extra)


def _freeze_extra(
    extra_words: Mapping[str, Sequence[str]] | None,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not extra_words:
        return ()
    out = []
    for topic, words in sorted(extra_words.items()):
        if topic not in TOPICS:
            raise ValueError(f"extra words: unknown topic {topic!r}")
        if isinstance(words, str):
            words = [words]
        out.append((topic, tuple(str(w) for w in words)))
    return tuple(out)


def _typo_of(token: str, lex: _CompiledLexicon) -> str | None:
    """The lexicon word a token is a misspelling of, if it plainly is one.

    Only for words of 5+ letters that are not lexicon words or common look-alikes
    (contact/contract), with the same first letter, at most one edit away (two for words of 9+
    letters); transpositions count as one edit.
    """
    return _typo_cached(token, lex.fuzzy_targets, lex.vocabulary)


@lru_cache(maxsize=8192)
def _typo_cached(token: str, targets: tuple[str, ...], vocabulary: frozenset[str]) -> str | None:
    if len(token) < 5 or token in vocabulary or token in NOT_TYPOS or not token.isalpha():
        return None
    max_edits = 2 if len(token) >= 9 else 1
    found = process.extractOne(
        token,
        [t for t in targets if t[0] == token[0] and abs(len(t) - len(token)) <= max_edits],
        scorer=OSA.distance,
        score_cutoff=max_edits,
    )
    if found is None:
        return None
    target = str(found[0])
    if len(target) < 9 and found[1] > 1:
        return None
    # a plural or -ing of a lexicon word is not a typo: prefix terms handle those
    if token.startswith(target) or target.startswith(token):
        return None
    return target


def _word_matches(pattern: str, token: str, typo: str | None) -> bool:
    if pattern.endswith("*"):
        stem = pattern[:-1]
        return token.startswith(stem) or (typo is not None and typo.startswith(stem))
    return token == pattern or typo == pattern


@dataclass(frozen=True)
class _Hit:
    term: _Term
    start: int
    length: int
    typo: bool
    surface: str
    """The words as the sender wrote them ("pricing" for the term "pric*")."""


def _match_sentence(words: list[str], lex: _CompiledLexicon) -> list[_Hit]:
    """Lexicon hits in one sentence, longest phrases first, each word used at most once."""
    typos = [_typo_of(w, lex) for w in words]
    found: list[_Hit] = []
    for i, word in enumerate(words):
        candidates: list[_Term] = list(lex.by_first_exact.get(word, ()))
        for k in range(2, len(word) + 1):
            candidates.extend(lex.by_first_prefix.get(word[:k], ()))
        typo = typos[i]
        if typo is not None:
            candidates.extend(lex.by_first_exact.get(typo, ()))
            for k in range(2, len(typo) + 1):
                candidates.extend(lex.by_first_prefix.get(typo[:k], ()))
        for term in candidates:
            n = len(term.words)
            if i + n > len(words):
                continue
            if all(_word_matches(p, words[i + j], typos[i + j]) for j, p in enumerate(term.words)):
                used_typo = any(
                    not _word_matches(p, words[i + j], None) for j, p in enumerate(term.words)
                )
                found.append(_Hit(term, i, n, used_typo, " ".join(words[i : i + n])))
    found.sort(key=lambda h: (-h.length, -h.term.weight, h.start))
    taken = [False] * len(words)
    kept: list[_Hit] = []
    for hit in found:
        span = range(hit.start, hit.start + hit.length)
        if any(taken[j] for j in span):
            continue
        for j in span:
            taken[j] = True
        if hit.term.topic is None or _negated(words, hit.start):
            continue
        kept.append(hit)
    return kept


def _negated(words: list[str], start: int) -> bool:
    """ "not about funding", "nothing to do with tenders": what the question is *not* about.

    Only this meta kind of negation: "we are not investment ready" or "we don't have a
    pension" are still questions about investment or pensions.
    """
    before = " ".join(words[max(0, start - 4) : start])
    return before.endswith(_META_NEGATIONS)


# --------------------------------------------------------------------------------------------
# Classification


def notice_text_of(notice: Notice) -> str:
    """The text of a notice an enquiry is about (the ❓ button on an alert): title, buyer,
    description and CPV labels, for :attr:`Enquiry.notice_text`."""
    cpv_labels = [cpv.describe(code) for code in notice.cpv[:5]]
    lines = [notice.title, notice.buyer or "", notice.description, *cpv_labels]
    return "\n".join(line for line in lines if line)[:MAX_NOTICE_TEXT]


def _weighted_parts(
    text: str, subject: str | None, notice_text: str | None
) -> tuple[list[tuple[str, float]], bool]:
    """The sentences to read, each with its weight, and whether the sender asks anything.

    The question's own sentences weigh 2, the subject 1.5, the rest 1 (0.5 as background in a
    long message that asks something elsewhere); a notice the question is about weighs
    :data:`NOTICE_WEIGHT` per sentence: it hints at the topic, it is not the question.
    """
    body = clean_email(text[:MAX_TEXT])
    parts: list[tuple[str, float]] = []
    if subject and subject.strip():
        parts.append((subject[:500], SUBJECT_WEIGHT))
    body_sentences = sentences(body)
    asks = [is_question(s) for s in body_sentences]
    long_message = len(body_sentences) > 3 and len(body.split()) > 60
    other_weight = BACKGROUND_WEIGHT if any(asks) and long_message else BODY_WEIGHT
    for sentence, ask in zip(body_sentences, asks, strict=True):
        parts.append((sentence, QUESTION_WEIGHT if ask else other_weight))
    if not parts and text.strip():
        # everything looked like a signature: read it all rather than nothing
        parts = [(s, BODY_WEIGHT) for s in sentences(text[:MAX_TEXT])]
    if notice_text and notice_text.strip():
        parts.extend((s, NOTICE_WEIGHT) for s in sentences(notice_text[:MAX_NOTICE_TEXT]))
    return parts, any(asks)


@dataclass(frozen=True)
class _Tally:
    """The lexicon's verdict: score per topic and the matched terms (strongest first)."""

    scores: dict[str, float]
    terms: dict[str, tuple[str, ...]]


def _tally(parts: Sequence[tuple[str, float]], lex: _CompiledLexicon) -> _Tally:
    """Lexicon scores: a term counts once at the weight of the strongest sentence it appears in,
    plus a little for each repeat, so a long email repeating "funding" in its background does
    not drown the one question it asks; scene-setting terms count half when another topic has
    strong evidence of its own."""
    contributions: dict[tuple[str, str], list[float]] = {}
    labels: dict[tuple[str, str], tuple[float, str]] = {}
    strong: set[str] = set()
    for sentence, weight in parts:
        for hit in _match_sentence(tokens(sentence), lex):
            assert hit.term.topic is not None
            key = (hit.term.topic, hit.term.text)
            if hit.term.weight >= 2.0 and key not in SETTING and weight > NOTICE_WEIGHT:
                strong.add(hit.term.topic)
            value = hit.term.weight * weight
            contributions.setdefault(key, []).append(value)
            label = hit.surface
            if hit.typo:
                label = f"{hit.surface} (~{hit.term.text.replace('*', '')})"
            if key not in labels or value > labels[key][0]:
                labels[key] = (value, label)

    scores = dict.fromkeys(TOPICS, 0.0)
    per_term: dict[str, list[tuple[float, str]]] = {t: [] for t in TOPICS}
    for (topic, term), values in contributions.items():
        values.sort(reverse=True)
        extra = min(0.3 * sum(values[1:]), 0.6 * values[0])
        value = values[0] + extra
        if (topic, term) in SETTING and strong - {topic, GENERAL}:
            value *= SETTING_FACTOR
        scores[topic] += value
        per_term[topic].append((value, labels[(topic, term)][1]))
    terms = {
        t: tuple(label for _, label in sorted(per_term[t], key=lambda p: -p[0]))
        for t in TOPICS
        if per_term[t]
    }
    return _Tally(scores, terms)


def classify(
    text: str,
    subject: str | None = None,
    extra_words: Mapping[str, Sequence[str]] | None = None,
    notice_text: str | None = None,
    method: str = "auto",
    model: TopicModel | None = None,
) -> TopicResult:
    """The topic of an enquiry, with a confidence in 0..1, every topic's score and reasons.

    ``method``: "model" (the topic model over words and the lexicon's scores; the default
    "auto" uses it whenever its data file loads), or "lexicon" (the hand-written lexicon alone,
    also the fallback). Below :data:`MIN_CONFIDENCE` (model: :data:`MODEL_MIN_CONFIDENCE`) the
    topic is ``general`` (the duty adviser) and the reasons name the best guess.
    ``notice_text``: the notice the question is about, if any; it leans the topic towards
    tendering (most questions about a notice are bidding ones) and its words count a little.
    ``model``: a topic model to use instead of the committed one (evaluation of variants).
    """
    if method not in ("auto", "model", "lexicon"):
        raise ValueError(f"classify: unknown method {method!r} (auto, model or lexicon)")
    lex = _lexicon(_freeze_extra(extra_words))
    parts, asks = _weighted_parts(text, subject, notice_text)
    tally = _tally(parts, lex)
    about_notice = bool(notice_text and notice_text.strip())
    if method == "lexicon":
        model = None
    elif model is None:
        model = load_model()
    if method == "model" and model is None:
        raise ValueError("classify: the triage model file is missing or unreadable")
    if model is not None:
        return _classify_model(model, parts, asks, tally, about_notice)
    return _classify_lexicon(tally, asks, about_notice, fallback=method == "auto")


def training_features(
    text: str, subject: str | None = None, notice_text: str | None = None
) -> Features:
    """The topic model's features of one enquiry, as :func:`classify` computes them but with no
    typo correction (that needs a trained model's vocabulary): what training uses."""
    parts, asks = _weighted_parts(text, subject, notice_text)
    tally = _tally(parts, _lexicon(()))
    return features([(tokens(s), w) for s, w in parts], tally.scores, asks)


def _classify_model(
    model: TopicModel,
    parts: Sequence[tuple[str, float]],
    asks: bool,
    tally: _Tally,
    about_notice: bool,
) -> TopicResult:
    feats = features(
        [(tokens(s), w) for s, w in parts], tally.scores, asks, model.vocabulary, NOT_TYPOS
    )
    words_seen = any(k.startswith(("w:", "b:")) for k in feats.values)
    if not words_seen and not about_notice:
        return _nothing_found()
    prior = {"tendering": NOTICE_TENDERING_PRIOR} if about_notice else None
    probs = model.probabilities(feats, prior)
    ranked = sorted(model.topics, key=lambda t: (-probs[t], TOPICS.index(t)))
    best, second = ranked[0], ranked[1]
    confidence = round(probs[best], 3)
    evidence = {t: tuple(model.evidence(feats, t)) for t in ranked[:2]}
    for t in ranked[:2]:
        lexical = tally.terms.get(t, ())
        if not evidence[t] and lexical:
            evidence[t] = lexical[:3]
    shown = ", ".join(evidence[best]) or ("the notice" if about_notice else "no clear words")
    notice_note = ("(about a notice)",) if about_notice else ()
    if best != GENERAL and confidence < MODEL_MIN_CONFIDENCE:
        topic = GENERAL
        reasons: tuple[str, ...] = (
            f"topic: general (unsure; best guess: {best} ({confidence:.2f}): {shown})",
        )
    else:
        topic = best
        reasons = (f"topic: {best} ({confidence:.2f}: {shown})",)
        if probs[second] >= ALSO_SHARE and evidence[second]:
            reasons += (f"also {second} ({probs[second]:.2f}: {', '.join(evidence[second][:2])})",)
    return TopicResult(
        topic=topic,
        confidence=confidence,
        scores=MappingProxyType({t: round(probs[t], 3) for t in TOPICS}),
        reasons=reasons + notice_note,
        terms=MappingProxyType({t: v for t, v in evidence.items() if v}),
        best=best,
        method="model",
    )


def _nothing_found() -> TopicResult:
    return TopicResult(
        topic=GENERAL,
        confidence=0.0,
        scores=MappingProxyType({t: 0.0 for t in TOPICS}),
        reasons=("topic: general (no topic words found)",),
        terms=MappingProxyType({}),
        best=GENERAL,
    )


def _classify_lexicon(tally: _Tally, asks: bool, about_notice: bool, fallback: bool) -> TopicResult:
    """The lexicon alone: confidence from the winning score and its lead over the runner-up."""
    scores = dict(tally.scores)
    if about_notice:
        scores["tendering"] += NOTICE_TENDERING_LEAN
    ranked = sorted(TOPICS, key=lambda t: (-scores[t], TOPICS.index(t)))
    best, second = ranked[0], ranked[1]
    s1, s2 = scores[best], scores[second]
    if s1 <= 0:
        return _nothing_found()
    strength = 1.0 - math.exp(-s1 / 3.0)
    share = s1 / (s1 + s2)
    confidence = strength * share
    if not asks:
        confidence *= NO_QUESTION_FACTOR
    confidence = round(confidence, 3)
    terms = dict(tally.terms)
    shown = ", ".join(terms.get(best, ())[:3]) or "the notice"
    if best != GENERAL and confidence < MIN_CONFIDENCE:
        topic = GENERAL
        reasons: tuple[str, ...] = (
            f"topic: general (unsure; best guess: {best} ({confidence:.2f}): {shown})",
        )
    else:
        topic = best
        reasons = (f"topic: {best} ({shown})",)
        if scores[second] > 0 and s2 >= 0.6 * s1 and terms.get(second):
            reasons += (f"also {second} ({', '.join(terms[second][:2])})",)
    if about_notice:
        reasons += ("(about a notice)",)
    if fallback:
        reasons += ("(lexicon only: topic model file unavailable)",)
    return TopicResult(
        topic=topic,
        confidence=confidence,
        scores=MappingProxyType({t: round(scores[t], 3) for t in TOPICS}),
        reasons=reasons,
        terms=MappingProxyType(terms),
        best=best,
        method="lexicon",
    )


# --------------------------------------------------------------------------------------------
# Region


def detect_region(text: str) -> str | None:
    """The sender's region from places and postcodes in the text, as the roster names it.

    Quoted earlier messages are ignored (they may be SEEM's own signature); the sender's
    signature is read (it usually has their address). None when nothing is found or the
    evidence points outside the East Midlands (e.g. Burton upon Trent, DE14).
    """
    region, _ = places.best_region(strip_quoted(text[:MAX_TEXT]))
    return region


def _enquiry_region(enquiry: Enquiry) -> tuple[str | None, str]:
    """The region to route by and where it came from (for the reasons): the given region, else
    the text, else the enterprise's profile."""
    if enquiry.region and enquiry.region.strip():
        given = enquiry.region.strip()
        canonical = places.canonical_region(given)
        if canonical:
            return canonical, "given"
        found, _ = places.best_region(given)
        return (found or given[:60]), "given"
    subject = enquiry.subject or ""
    region, hit = places.best_region(strip_quoted(enquiry.text[:MAX_TEXT]) + "\n" + subject)
    if region is not None:
        return region, hit.evidence if hit is not None else ""
    profile = profile_region(enquiry.profile_regions)
    if profile is not None:
        return profile, "from profile"
    return None, ""


def profile_region(regions: Sequence[str]) -> str | None:
    """The one region to route by from a profile's regions: the first the roster knows by name
    ("Derbyshire", "Leicester"), read as place names when not canonical ("Loughborough"); a
    profile naming several counties routes by the first; "East Midlands" means region-wide."""
    for raw in regions:
        if not isinstance(raw, str) or not raw.strip():
            continue
        canonical = places.canonical_region(raw.strip())
        if canonical:
            return canonical
        found, _ = places.best_region(raw.strip())
        if found:
            return found
    return None


# --------------------------------------------------------------------------------------------
# Routing


def _region_match(adviser: Adviser, region: str | None) -> tuple[int, str]:
    """(tier, label): 0 covers the region, 1 covers the city's county (or the county's city),
    2 region-wide, 3 elsewhere. With no known region, region-wide advisers come first."""
    covered = {r.strip().lower() for r in adviser.regions}
    if region is None or region == places.EAST_MIDLANDS:
        return (0, "region-wide") if adviser.region_wide else (1, "other")
    if region.lower() in covered:
        return 0, "region"
    parent = places.PARENT.get(region)
    children = {c.lower() for c, p in places.PARENT.items() if p == region}
    if (parent and parent.lower() in covered) or (children & covered):
        return 1, "near"
    if adviser.region_wide:
        return 2, "region-wide"
    return 3, "other"


def _rank(
    advisers: Iterable[Adviser], region: str | None, role: str
) -> list[tuple[tuple[int, float, int, int], Candidate]]:
    out = []
    for order, adviser in enumerate(advisers):
        tier, label = _region_match(adviser, region)
        cand = Candidate(adviser.id, role, label, adviser.open, adviser.capacity)
        out.append(((tier, cand.load, adviser.open, order), cand))
    out.sort(key=lambda p: p[0])
    return out


def _load_text(c: Candidate) -> str:
    return f"load {c.open}/{c.capacity}"


def route_topic(
    enquiry_id: str,
    topic: str,
    region: str | None,
    advisers: Sequence[Adviser],
    exclude_ids: Iterable[str] = (),
) -> tuple[str | None, tuple[Candidate, ...], tuple[str, ...]]:
    """The adviser for a known topic: (adviser id or None, ranked candidates, reasons).

    Candidates are every available, non-excluded adviser: those covering the topic (by region
    match, then relative load), then the duty advisers, then everyone else by load.
    """
    excluded = set(exclude_ids)
    usable = [a for a in advisers if a.available and a.id not in excluded]
    topical = [a for a in usable if topic != GENERAL and topic in a.topics]
    duty = [a for a in usable if GENERAL in a.topics and a not in topical]
    rest = [a for a in usable if a not in topical and a not in duty]
    ranked: list[Candidate] = [c for _, c in _rank(topical, region, "topic")]
    ranked += [c for _, c in _rank(duty, region, "duty")]
    rest_ranked = sorted(
        _rank(rest, region, "fallback"), key=lambda p: (p[0][1], p[0][0], p[0][2], p[0][3])
    )
    ranked += [c for _, c in rest_ranked]
    candidates = tuple(ranked)

    reasons: list[str] = []
    skipped = [
        a
        for a in advisers
        if (topic in a.topics or GENERAL in a.topics) and (a.id in excluded or not a.available)
    ]
    if not candidates:
        return None, candidates, ("no adviser available",)
    chosen = candidates[0]
    if chosen.role == "topic":
        if chosen.region_match == "region":
            reasons.append(f"covers {region}")
        elif chosen.region_match == "near":
            reasons.append(f"covers the area around {region}")
        elif chosen.region_match == "region-wide":
            reasons.append("covers the whole region")
        elif region:
            reasons.append(f"nobody for {topic} in {region}: adviser from another area")
    elif chosen.role == "duty":
        if topic != GENERAL:
            reasons.append(f"no {topic} adviser available: duty adviser")
        else:
            reasons.append("duty adviser")
    else:
        reasons.append("no duty adviser available: least-loaded adviser")
    reasons.append(_load_text(chosen))
    for a in skipped[:3]:
        why = "passed it on" if a.id in excluded else ("away" if a.away else "full")
        reasons.append(f"skipped {a.id}: {why}")
    return chosen.adviser_id, candidates, tuple(reasons)


def route(
    enquiry: Enquiry,
    advisers: Sequence[Adviser],
    exclude_ids: Iterable[str] = (),
    extra_words: Mapping[str, Sequence[str]] | None = None,
    method: str = "auto",
    model: TopicModel | None = None,
) -> Route:
    """Route one enquiry against the roster as given (loads are not changed).

    ``exclude_ids`` are advisers who must not get it (they passed it on, or already failed to
    acknowledge it). Low confidence goes to the duty adviser. ``method`` is passed to
    :func:`classify` ("auto", "model" or "lexicon"), and ``model`` too.
    """
    result = classify(
        enquiry.text, enquiry.subject, extra_words, enquiry.notice_text, method, model
    )
    region, evidence = _enquiry_region(enquiry)
    adviser_id, candidates, route_reasons = route_topic(
        enquiry.id, result.topic, region, advisers, exclude_ids
    )
    reasons = list(result.reasons)
    if region:
        reasons.append(
            f"region: {region}"
            + (
                f" ({evidence})"
                if evidence and evidence != "given" and evidence.lower() != region.lower()
                else ""
            )
        )
    else:
        reasons.append("region: unknown")
    reasons.extend(route_reasons)
    return Route(
        enquiry_id=enquiry.id,
        topic=result.topic,
        adviser_id=adviser_id,
        confidence=result.confidence,
        reasons=tuple(reasons),
        candidates=candidates,
        region=region,
    )


def next_best(route_: Route, exclude_ids: Iterable[str] = ()) -> Candidate | None:
    """The next adviser to try when the routed one passes it on or does not acknowledge it.

    Uses the ranked candidates of the original routing: the first one that is neither the
    current adviser nor excluded. For fresh loads, call :func:`route` again with
    ``exclude_ids`` instead; both never return the adviser who passed.
    """
    skip = set(exclude_ids)
    if route_.adviser_id is not None:
        skip.add(route_.adviser_id)
    for cand in route_.candidates:
        if cand.adviser_id not in skip:
            return cand
    return None


# --------------------------------------------------------------------------------------------
# Parsing the documented JSON formats


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _field(obj: Mapping[str, Any], name: str, where: str, required: bool) -> Any:
    if name not in obj:
        if required:
            raise TriageInputError(f"{where}: field '{name}': missing")
        return None
    return obj[name]


def _whole(value: Any, where: str, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
            value = int(value)
        else:
            raise TriageInputError(f"{where}: field '{name}': expected a whole number")
    if value < minimum:
        raise TriageInputError(f"{where}: field '{name}': must be {minimum} or more")
    return int(value)


def _text(value: Any, where: str, name: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TriageInputError(f"{where}: field '{name}': expected text")
    if not allow_empty and not value.strip():
        raise TriageInputError(f"{where}: field '{name}': empty")
    return value


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TriageInputError(f"{where}: field '{name}': expected a list of text")
    return tuple(v.strip() for v in value if v.strip())


def adviser_from_json(obj: Any, where: str) -> Adviser:
    """One adviser from its JSON object; ``where`` names it in errors ("adviser 3")."""
    if not isinstance(obj, dict):
        raise TriageInputError(f"{where}: expected an object")
    ident = _text(_field(obj, "id", where, True), where, "id")
    name_value = _field(obj, "name", where, False)
    name = ident if name_value is None else _text(name_value, where, "name")
    topics = _strings(_field(obj, "topics", where, True), where, "topics")
    for topic in topics:
        if topic not in TOPICS:
            raise TriageInputError(
                f"{where}: field 'topics': unknown topic {_show(topic)} "
                f"(known: {', '.join(TOPICS)})"
            )
    regions_value = _field(obj, "regions", where, False)
    regions = () if regions_value is None else _strings(regions_value, where, "regions")
    capacity = _whole(_field(obj, "capacity", where, True), where, "capacity")
    away_value = _field(obj, "away", where, False)
    if away_value is not None and not isinstance(away_value, bool):
        raise TriageInputError(f"{where}: field 'away': expected true or false")
    open_value = _field(obj, "open", where, False)
    open_ = 0 if open_value is None else _whole(open_value, where, "open")
    email = _field(obj, "email", where, False)
    if email is not None:
        email = _text(email, where, "email")
    telegram = _field(obj, "telegram_id", where, False)
    if telegram is not None:
        telegram = _whole(telegram, where, "telegram_id", minimum=-(2**63))
    return Adviser(
        id=ident,
        name=name,
        topics=topics,
        capacity=capacity,
        regions=regions,
        away=bool(away_value),
        open=open_,
        email=email,
        telegram_id=telegram,
    )


def advisers_from_json(data: Any) -> list[Adviser]:
    """The roster from parsed JSON: a non-empty list of adviser objects with unique ids."""
    if not isinstance(data, list):
        raise TriageInputError("expected a JSON list of advisers")
    if not data:
        raise TriageInputError("no advisers in the list")
    out: list[Adviser] = []
    seen: set[str] = set()
    for n, obj in enumerate(data, start=1):
        adviser = adviser_from_json(obj, f"adviser {n}")
        if adviser.id in seen:
            raise TriageInputError(f"adviser {n}: field 'id': {_show(adviser.id)} used twice")
        seen.add(adviser.id)
        out.append(adviser)
    return out


def enquiry_from_json(obj: Any, where: str) -> Enquiry:
    """One enquiry from its JSON object; other keys (channel, labels...) are ignored."""
    if not isinstance(obj, dict):
        raise TriageInputError(f"{where}: expected an object")
    ident_value = _field(obj, "id", where, True)
    if isinstance(ident_value, int) and not isinstance(ident_value, bool):
        ident_value = str(ident_value)
    ident = _text(ident_value, where, "id")
    text = _text(_field(obj, "text", where, True), where, "text", allow_empty=True)
    subject = _field(obj, "subject", where, False)
    if subject is not None:
        subject = _text(subject, where, "subject", allow_empty=True)
    region = _field(obj, "region", where, False)
    if region is not None:
        region = _text(region, where, "region", allow_empty=True) or None
    notice_text = _notice_field(obj, where)
    profile_value = _field(obj, "profile_regions", where, False)
    profile_regions = (
        () if profile_value is None else _strings(profile_value, where, "profile_regions")
    )
    return Enquiry(
        id=ident,
        text=text,
        subject=subject,
        region=region,
        notice_text=notice_text,
        profile_regions=profile_regions,
    )


def _notice_field(obj: Mapping[str, Any], where: str) -> str | None:
    """``notice_text`` (text), or ``notice``: text, or an object whose ``title``,
    ``description`` and ``buyer`` are read (a ``bestbot feed parse`` line will do)."""
    value = _field(obj, "notice_text", where, False)
    name = "notice_text"
    if value is None:
        value, name = _field(obj, "notice", where, False), "notice"
    if value is None:
        return None
    if isinstance(value, dict):
        pieces = [value.get(k) for k in ("title", "buyer", "description")]
        if not all(p is None or isinstance(p, str) for p in pieces):
            raise TriageInputError(f"{where}: field '{name}': title, buyer, description: text")
        value = "\n".join(p for p in pieces if p)
    return _text(value, where, name, allow_empty=True)[:MAX_NOTICE_TEXT] or None
