"""Signed tokens: round trip, tampering, wrong purpose or secret, garbage."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tokens import sign, verify

SECRET = "s3cret-key-for-tests"


def test_round_trip() -> None:
    for subject in (0, 1, 42, 10**18):
        token = sign(SECRET, "unsub", subject)
        assert re.fullmatch(r"[0-9]+\.[A-Za-z0-9_-]{43}", token)
        assert verify(SECRET, "unsub", token) == subject


def test_tokens_are_deterministic_and_distinct() -> None:
    assert sign(SECRET, "unsub", 5) == sign(SECRET, "unsub", 5)
    assert sign(SECRET, "unsub", 5) != sign(SECRET, "unsub", 6)
    assert sign(SECRET, "unsub", 5) != sign(SECRET, "link", 5)
    assert sign(SECRET, "unsub", 5) != sign("other", "unsub", 5)


def test_wrong_purpose_or_secret() -> None:
    token = sign(SECRET, "unsub", 7)
    assert verify(SECRET, "link", token) is None
    assert verify("other secret", "unsub", token) is None
    assert verify("", "unsub", token) is None


def test_tampering() -> None:
    token = sign(SECRET, "unsub", 7)
    subject, sig = token.split(".")
    assert verify(SECRET, "unsub", f"8.{sig}") is None
    assert verify(SECRET, "unsub", f"07.{sig}") is None  # not canonical
    assert verify(SECRET, "unsub", f"+7.{sig}") is None
    assert verify(SECRET, "unsub", f"{subject}.{sig}=") is None
    assert verify(SECRET, "unsub", f"{subject}.{sig[:-1]}") is None
    assert verify(SECRET, "unsub", token + "x") is None
    assert verify(SECRET, "unsub", " " + token) is None
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    assert verify(SECRET, "unsub", f"{subject}.{flipped}") is None
    assert verify(SECRET, "unsub", "٧." + sig) is None  # a non-ASCII digit


@pytest.mark.parametrize(
    "garbage", ["", ".", "7", "7.", ".abc", "abc.def", "x" * 10_000, "7.\ud800", None, 7, b"7.x"]
)
def test_garbage(garbage: Any) -> None:
    assert verify(SECRET, "unsub", garbage) is None


@given(st.text(max_size=120))
def test_verify_never_raises(token: str) -> None:
    assert verify(SECRET, "unsub", token) is None


@given(st.integers(0, 10**19 - 1), st.sampled_from(["unsub", "link", "a.b-c_d"]))
def test_round_trip_property(subject: int, purpose: str) -> None:
    assert verify(SECRET, purpose, sign(SECRET, purpose, subject)) == subject


@pytest.mark.parametrize(
    ("secret", "purpose", "subject"),
    [
        ("", "unsub", 1),
        (SECRET, "", 1),
        (SECRET, "un sub", 1),
        (SECRET, "unsub", -1),
        (SECRET, "unsub", 10**19),
        (SECRET, "unsub", True),
    ],
)
def test_sign_refuses_bad_input(secret: str, purpose: str, subject: int) -> None:
    with pytest.raises(ValueError):
        sign(secret, purpose, subject)
