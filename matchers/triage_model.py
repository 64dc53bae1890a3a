"""A small linear topic model for triage: words of the question plus the lexicon's verdict.

Why: the hand-tuned lexicon (:mod:`matchers.triage_lexicon`) is precise on the enquiries it was
tuned on and brittle on new voices and situations. This model learns, from questions of the kind
each adviser answers (``matchers/data/triage_topics.json``, written from what SEEM's advisers do)
and from the dev enquiries, how much to trust each word and phrase and the lexicon's own scores.
Its output is a probability per topic, which is what the confidence is.

* :func:`features` turns weighted sentences (question sentences count more than background, as
  in :func:`matchers.triage.classify`) and the lexicon's topic scores into sparse features:
  stemmed words ``w:``, adjacent pairs ``b:``, lexicon scores ``lex:`` and a few facts about
  the message ``meta:``. Typos are mapped to a known word one edit away.
* :class:`TopicModel` is multinomial logistic regression: a weight per (feature, topic), read
  from ``matchers/data/triage_model.json``. Inference is plain Python.
* :func:`fit` trains it (numpy, fixed iterations, no randomness: the same data gives the same
  file). ``benchmarks/build_triage_model.py`` rebuilds the committed file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

MODEL_FILE = Path(__file__).resolve().parent / "data" / "triage_model.json"
FORMAT = 1

_STOP_TEXT = """a about after again all also am an and any anyone are as at be because been
    before being
    but by can could did do does doing for from get got had has have having he her here hi his
    how i if in into is it its just me my no not of on one or our ours out please pls so some
    that the their them then there these they this those to too up us very was we were what when
    where which who why will with would you your im ive weve were re ll ve d s t m hello thanks
    thank"""
STOPWORDS = frozenset(_STOP_TEXT.split())
"""Words that carry no topic: dropped from single-word features (pairs keep them: "set up")."""

NORM_FLOOR = 3.0
"""Word features are scaled to unit length, except that a message with little in it is scaled
as if it were longer: one or two words are weak evidence and must give a weak, honest
confidence ("open" alone must not be 98 % finance)."""

LEXICON_FULL = 4.0
"""Lexicon evidence this strong (about two strong terms) counts in full; one weak hit that
happens to be the only one must not look like a certain topic."""

_SUFFIXES = ("ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s")


def stem(word: str) -> str:
    """A crude, stable stem ("tendering" -> "tend", "policies" -> "polic"): enough to merge
    plural and verb forms; the same function is used in training and use, so its quirks cancel."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Features:
    """Sparse feature values and, for the reasons, the words as the sender wrote them."""

    values: Mapping[str, float]
    surface: Mapping[str, str] = field(default_factory=dict)


def _word_features(
    parts: Sequence[tuple[Sequence[str], float]],
    correct: Any,
) -> tuple[dict[str, float], dict[str, str]]:
    raw: dict[str, float] = {}
    surface: dict[str, str] = {}
    for words, weight in parts:
        if weight <= 0:
            continue
        stems = [correct(stem(w)) for w in words]
        for i, s in enumerate(stems):
            if s not in STOPWORDS and len(s) > 1:
                key = "w:" + s
                raw[key] = raw.get(key, 0.0) + weight
                surface.setdefault(key, words[i])
            if i + 1 < len(stems):
                nxt = stems[i + 1]
                if s in STOPWORDS and nxt in STOPWORDS:
                    continue
                key = f"b:{s}_{nxt}"
                raw[key] = raw.get(key, 0.0) + weight
                surface.setdefault(key, f"{words[i]} {words[i + 1]}")
    values = {k: math.log1p(v) for k, v in raw.items()}
    norm = max(math.sqrt(sum(v * v for v in values.values())), NORM_FLOOR)
    values = {k: v / norm for k, v in values.items()}
    return values, surface


def features(
    parts: Sequence[tuple[Sequence[str], float]],
    lexicon_scores: Mapping[str, float],
    asks: bool,
    vocabulary: frozenset[str] = frozenset(),
    not_typos: frozenset[str] = frozenset(),
) -> Features:
    """Features of one enquiry.

    ``parts`` are (tokens, weight) per sentence; ``lexicon_scores`` the lexicon's raw score per
    topic; ``asks`` whether any sentence asks something. With a ``vocabulary`` (the model's
    known stems), an unknown stem of 5+ letters one edit from a known one (two for 9+) is read
    as that stem, so "procurment" counts as "procurement".
    """

    def correct(s: str) -> str:
        if not vocabulary or s in vocabulary or s in not_typos:
            return s
        return _nearest(s, vocabulary) or s

    values, surface = _word_features(parts, correct)
    total = sum(max(0.0, v) for v in lexicon_scores.values())
    for topic, score in lexicon_scores.items():
        if score > 0:
            values["lex:" + topic] = score / (score + 3.0)
            values["lexshare:" + topic] = (score / total) * min(1.0, total / LEXICON_FULL)
    n_words = sum(len(words) for words, _ in parts)
    if not asks:
        values["meta:no_question"] = 1.0
    if n_words <= 6:
        values["meta:short"] = 1.0
    if total <= 0:
        values["meta:no_lexicon"] = 1.0
    return Features(values, surface)


@lru_cache(maxsize=16384)
def _nearest_cached(token: str, targets: tuple[str, ...]) -> str | None:
    if len(token) < 5 or not token.isalpha():
        return None
    max_edits = 2 if len(token) >= 9 else 1
    pool = [t for t in targets if t[0] == token[0] and abs(len(t) - len(token)) <= max_edits]
    found = process.extractOne(token, pool, scorer=OSA.distance, score_cutoff=max_edits)
    if found is None:
        return None
    target = str(found[0])
    if token.startswith(target) or target.startswith(token):
        return None
    return target


_TARGETS: dict[frozenset[str], tuple[str, ...]] = {}


def _nearest(token: str, vocabulary: frozenset[str]) -> str | None:
    targets = _TARGETS.get(vocabulary)
    if targets is None:
        targets = tuple(sorted(v for v in vocabulary if len(v) >= 5 and v.isalpha()))
        _TARGETS[vocabulary] = targets
    return _nearest_cached(token, targets)


@dataclass(frozen=True)
class TopicModel:
    """Multinomial logistic regression over sparse features; ``temperature`` calibrates."""

    topics: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]
    temperature: float = 1.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def vocabulary(self) -> frozenset[str]:
        """Known word stems (for typo correction)."""
        return _vocabulary(self)

    def logits(self, feats: Features) -> list[float]:
        out = list(self.bias)
        for name, value in feats.values.items():
            row = self.weights.get(name)
            if row is None:
                continue
            for k, w in enumerate(row):
                out[k] += w * value
        return [z / self.temperature for z in out]

    def probabilities(
        self, feats: Features, prior: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """Topic -> probability; ``prior`` multiplies topics' odds (e.g. a notice's tendering
        lean) before normalising."""
        z = self.logits(feats)
        if prior:
            z = [zk + math.log(prior.get(t, 1.0)) for zk, t in zip(z, self.topics, strict=True)]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        return {t: ek / s for t, ek in zip(self.topics, e, strict=True)}

    def evidence(self, feats: Features, topic: str, limit: int = 3) -> list[str]:
        """The sender's words that pushed most towards ``topic`` (for the reasons)."""
        k = self.topics.index(topic)
        scored: list[tuple[float, str]] = []
        for name, value in feats.values.items():
            if not name.startswith(("w:", "b:")):
                continue
            if name.startswith("b:") and any(p in STOPWORDS for p in name[2:].split("_")):
                continue  # "we need" is no reason to show an adviser
            row = self.weights.get(name)
            if row is None:
                continue
            push = value * (row[k] - sum(row) / len(row))
            if push > 0:
                scored.append((push, feats.surface.get(name, name[2:])))
        scored.sort(key=lambda p: (-p[0], p[1]))
        out: list[str] = []
        for _, words in scored:
            if any(words in seen or seen in words for seen in out):
                continue
            out.append(words)
            if len(out) == limit:
                break
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "meta": dict(self.meta),
            "topics": list(self.topics),
            "temperature": self.temperature,
            "bias": list(self.bias),
            "weights": {k: list(v) for k, v in sorted(self.weights.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TopicModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"triage model: unknown format {data.get('format')!r}")
        topics = tuple(str(t) for t in data["topics"])
        weights = {str(k): tuple(float(x) for x in v) for k, v in data["weights"].items()}
        if any(len(v) != len(topics) for v in weights.values()):
            raise ValueError("triage model: a weight row has the wrong length")
        return cls(
            topics=topics,
            bias=tuple(float(b) for b in data["bias"]),
            weights=weights,
            temperature=float(data.get("temperature", 1.0)),
            meta=dict(data.get("meta", {})),
        )


_VOCAB: dict[int, frozenset[str]] = {}


def _vocabulary(model: TopicModel) -> frozenset[str]:
    key = id(model.weights)
    vocab = _VOCAB.get(key)
    if vocab is None:
        vocab = frozenset(k[2:] for k in model.weights if k.startswith("w:"))
        _VOCAB[key] = vocab
    return vocab


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> TopicModel | None:
    """The committed model, or None when the file is missing or unreadable (the caller then
    falls back to the lexicon alone, and says so in the reasons)."""
    try:
        return TopicModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------------------------
# Training (numpy; only the build script and the evaluation call this)


def fit(
    examples: Sequence[tuple[Features, Mapping[str, float]]],
    topics: Sequence[str],
    sample_weights: Sequence[float] | None = None,
    l2: float = 1e-3,
    iterations: int = 600,
    min_count: int = 2,
    meta: Mapping[str, Any] | None = None,
) -> TopicModel:
    """Train on (features, target distribution) pairs: soft targets let an enquiry whose
    ``acceptable`` topics include a second one teach a little of that one too.

    Features seen in fewer than ``min_count`` examples are dropped (they would only memorise).
    Full-batch gradient descent with Adam steps, a fixed number of iterations and zero start:
    deterministic, so the committed model is reproducible bit for bit on one platform.
    ``sample_weights`` (default equal) let each topic weigh the same however many examples it has.
    """
    import numpy as np

    counts: dict[str, int] = {}
    for feats, _ in examples:
        for name in feats.values:
            counts[name] = counts.get(name, 0) + 1
    names = sorted(n for n, c in counts.items() if c >= min_count)
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros((len(examples), len(names)))
    y = np.zeros((len(examples), len(topics)))
    for r, (feats, target) in enumerate(examples):
        for name, value in feats.values.items():
            col = index.get(name)
            if col is not None:
                x[r, col] = value
        for t, share in target.items():
            y[r, list(topics).index(t)] = share
    w = np.zeros((len(names), len(topics)))
    b = np.zeros(len(topics))
    m_w, v_w = np.zeros_like(w), np.zeros_like(w)
    m_b, v_b = np.zeros_like(b), np.zeros_like(b)
    rate, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    sw = np.ones(len(examples)) if sample_weights is None else np.asarray(sample_weights, float)
    sw = sw / sw.sum()
    for step in range(1, iterations + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) * sw[:, None]
        grad_w = x.T @ g + l2 * w
        grad_b = g.sum(axis=0)
        for param, grad, m, v in ((w, grad_w, m_w, v_w), (b, grad_b, m_b, v_b)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            param -= rate * m_hat / (np.sqrt(v_hat) + eps)
    weights = {
        name: tuple(round(float(val), 4) for val in w[i])
        for i, name in enumerate(names)
        if float(np.abs(w[i]).max()) >= 1e-3
    }
    return TopicModel(
        topics=tuple(topics),
        bias=tuple(round(float(val), 4) for val in b),
        weights=weights,
        meta=dict(meta or {}),
    )


def fit_temperature(logit_rows: Sequence[Sequence[float]], truth: Sequence[int]) -> float:
    """The temperature that makes held-out probabilities honest (least log loss on a grid)."""
    best_t, best_loss = 1.0, math.inf
    for step in range(5, 61):
        t = step / 10
        loss = 0.0
        for z, k in zip(logit_rows, truth, strict=True):
            zs = [v / t for v in z]
            top = max(zs)
            loss -= zs[k] - top - math.log(sum(math.exp(v - top) for v in zs))
        if loss < best_loss - 1e-12:
            best_t, best_loss = t, loss
    return best_t
