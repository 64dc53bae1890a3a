"""Regression floor for triage quality on the dev set (see docs/triage.md for the figures)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]

MEASURED_ACCEPTABLE = 1.0
"""Share routed to an adviser covering an acceptable topic, as measured (docs/triage.md)."""
MEASURED_TOPIC = 0.933
MARGIN = 0.05


def _eval_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_triage", REPO / "benchmarks/eval_triage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_triage_quality_floor() -> None:
    ev = _eval_module()
    items, roster = ev.load(
        REPO / "data/eval/enquiries_dev.jsonl", REPO / "data/eval/advisers.json"
    )
    assert len(items) == 60
    best = ev.bestbot(items, roster)
    assert best.to_away == 0
    assert best.unrouted == 0
    assert best.acceptable_share >= max(0.9, MEASURED_ACCEPTABLE - MARGIN)
    assert best.topic_accuracy >= MEASURED_TOPIC - MARGIN
    # and it beats both baselines by a wide margin
    assert best.acceptable_share > ev.keyword_baseline(items, roster).acceptable_share + 0.2
    assert best.acceptable_share > ev.duty_baseline(items, roster).acceptable_share + 0.5
