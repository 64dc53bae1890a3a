"""Build the triage topic model (``matchers/data/triage_model.json``) from its training data.

    .venv/bin/python benchmarks/build_triage_model.py [--check]

Training data: the adviser descriptions and example questions in
``matchers/data/triage_topics.json`` and the dev enquiries ``data/eval/enquiries_dev.jsonl``.
Never dev2: it is the held-out measure. The build is deterministic (no randomness, fixed
iterations), so running it again gives the same file; ``--check`` says whether the committed
file is what the data gives. The temperature that makes the confidence honest is fitted on
dev predictions made by models that did not see them (5 folds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from matchers.triage import TOPICS, training_features  # noqa: E402
from matchers.triage_model import (  # noqa: E402
    MODEL_FILE,
    Features,
    TopicModel,
    fit,
    fit_temperature,
)

TOPICS_FILE = REPO / "matchers" / "data" / "triage_topics.json"
DEV_FILE = REPO / "data" / "eval" / "enquiries_dev.jsonl"
L2 = 1e-4
ITERATIONS = 600
MIN_COUNT = 2
MAIN_SHARE = 0.75
"""Target probability of an enquiry's first topic when it lists other acceptable ones."""
FOLDS = 5

Example = tuple[Features, Mapping[str, float]]


def _strip(feats: Features, lexicon: bool) -> Features:
    if lexicon:
        return feats
    kept = {k: v for k, v in feats.values.items() if not k.startswith(("lex", "meta:no_lex"))}
    return Features(kept, feats.surface)


def description_examples(lexicon: bool = True) -> list[Example]:
    """Each topic's description and example questions, labelled with that topic."""
    data = json.loads(TOPICS_FILE.read_text(encoding="utf-8"))
    out: list[Example] = []
    for topic, entry in data["topics"].items():
        for text in [entry["description"], *entry["examples"]]:
            out.append((_strip(training_features(text), lexicon), {topic: 1.0}))
    return out


def target(topic: str, acceptable: Sequence[str]) -> dict[str, float]:
    others = [t for t in acceptable if t != topic]
    if not others:
        return {topic: 1.0}
    rest = (1.0 - MAIN_SHARE) / len(others)
    return {topic: MAIN_SHARE, **{t: rest for t in others}}


def labelled(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def enquiry_example(obj: Mapping[str, object], lexicon: bool = True) -> Example:
    feats = training_features(str(obj["text"]), obj.get("subject"))  # type: ignore[arg-type]
    acceptable = obj.get("acceptable") or [obj["topic"]]
    return _strip(feats, lexicon), target(str(obj["topic"]), acceptable)  # type: ignore[arg-type]


def balanced(examples: Sequence[Example]) -> list[float]:
    """Weights that give every topic the same total (by each example's target distribution),
    so that a topic with more written examples does not become the default guess."""
    mass = dict.fromkeys(TOPICS, 0.0)
    for _, dist in examples:
        for t, p in dist.items():
            mass[t] += p
    mean = sum(mass.values()) / len(TOPICS)
    return [sum(p * mean / mass[t] for t, p in dist.items()) for _, dist in examples]


def train(examples: Sequence[Example], meta: Mapping[str, object] | None = None) -> TopicModel:
    return fit(
        examples,
        TOPICS,
        sample_weights=balanced(examples),
        l2=L2,
        iterations=ITERATIONS,
        min_count=MIN_COUNT,
        meta=meta,
    )


def fold_models(
    base: Sequence[Example], dev: Sequence[Example], folds: int = FOLDS
) -> list[tuple[TopicModel, list[int]]]:
    """(model, held-out dev indices) per fold: each model trained on ``base`` and the dev items
    outside its fold (folds by position: item i is in fold i mod k)."""
    out = []
    for k in range(folds):
        held = [i for i in range(len(dev)) if i % folds == k]
        train_on = list(base) + [ex for i, ex in enumerate(dev) if i % folds != k]
        out.append((train(train_on), held))
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def build(lexicon: bool = True, with_dev: bool = True) -> TopicModel:
    """The model from the descriptions (and dev), with a temperature fitted on held-out dev."""
    base = description_examples(lexicon)
    dev_items = labelled(DEV_FILE)
    dev = [enquiry_example(o, lexicon) for o in dev_items]
    rows: list[list[float]] = []
    truth: list[int] = []
    if with_dev:
        for model, held in fold_models(base, dev):
            for i in held:
                rows.append(model.logits(dev[i][0]))
                truth.append(TOPICS.index(str(dev_items[i]["topic"])))
    else:
        model = train(base)
        rows = [model.logits(f) for f, _ in dev]
        truth = [TOPICS.index(str(o["topic"])) for o in dev_items]
    temperature = fit_temperature(rows, truth)
    meta = {
        "built_by": "benchmarks/build_triage_model.py",
        "trained_on": {
            "matchers/data/triage_topics.json": _sha(TOPICS_FILE),
            **({"data/eval/enquiries_dev.jsonl": _sha(DEV_FILE)} if with_dev else {}),
        },
        "examples": len(base) + (len(dev) if with_dev else 0),
        "l2": L2,
        "iterations": ITERATIONS,
        "min_count": MIN_COUNT,
        "temperature_fitted_on": "dev, held out by 5 folds" if with_dev else "dev (not trained on)",
    }
    full = train(list(base) + (dev if with_dev else []), meta)
    return TopicModel(full.topics, full.bias, full.weights, temperature, meta)


def render(model: TopicModel) -> str:
    return json.dumps(model.to_json(), separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = MODEL_FILE.exists() and MODEL_FILE.read_text(encoding="utf-8") == text
        print("triage model: committed file is up to date" if same else "triage model: STALE")
        return 0 if same else 1
    MODEL_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_FILE.relative_to(REPO)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
