"""Shared fixtures. Service-backed fixtures skip outside CI and fail inside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "feeds" / "samples"
EVAL = REPO / "data" / "eval"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(reason: str) -> None:
    """Skip a test whose service is missing, except in CI, where that is a failure."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES
