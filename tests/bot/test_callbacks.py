"""The one callback-data codec: what packs, what reads back, what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import CALLBACK_DATA_LIMIT, Callback, pack, unpack


def test_round_trip_of_every_family_in_use() -> None:
    assert pack("fb+", 123) == "fb+:123"
    assert pack("mute", 123, 0) == "mute:123:0"
    assert unpack("mute:123:0") == Callback("mute", ("123", "0"))
    assert unpack("s:rg:o:UKF14") == Callback("s", ("rg", "o", "UKF14"))
    assert unpack("e:42:acc") == Callback("e", ("42", "acc"))
    big = unpack(pack("undo", 10**19 - 1, 1))
    assert big is not None and big.id(0) == 10**19 - 1 and big.arg(1) == "1"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ":",
        "fb+:",
        "FB+:1",
        "mute:1:",
        "mute:1:é",
        "x" * 65,
        None,
        5,
        b"fb+:1",
        "fb+:1\n",
        " fb+:1",
    ],
)
def test_unpack_rejects_garbage(garbage: Any) -> None:
    assert unpack(garbage) is None


@pytest.mark.parametrize("data", ["fb+", "fb+:-1", "fb+:01", "fb+:abc", "fb+:" + "9" * 20])
def test_ids_must_be_canonical(data: str) -> None:
    parsed = unpack(data)
    assert parsed is None or parsed.id(0) is None


@pytest.mark.parametrize(
    "args",
    [("Bad", 1), ("x:y", 1), ("fb+", -1), ("fb+", 10**19), ("mute", 1, "a:b"), ("mute", 1, "")],
)
def test_pack_refuses_what_cannot_round_trip(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        pack(*args)


def test_pack_refuses_data_over_telegrams_64_bytes() -> None:
    assert len(pack("s", "x" * 30, "y" * 30)) == 63
    with pytest.raises(ValueError, match="too long"):
        pack("s", "x" * 40, "y" * 40)
    assert CALLBACK_DATA_LIMIT == 64


@given(st.text(max_size=80))
def test_unpack_never_crashes_and_what_it_reads_packs_back(data: str) -> None:
    result = unpack(data)
    if result is not None:
        assert pack(result.action, *result.args) == data


def test_signed_data_is_bound_to_its_chat_and_key() -> None:
    from bot.callbacks import sign, verify

    key, other = b"k" * 32, b"x" * 32
    data = sign(key, 7001, "e:42:to:9")
    assert data.startswith("e:42:to:9:") and len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert verify(key, 7001, data) == Callback("e", ("42", "to", "9"))
    assert verify(key, 7002, data) is None  # copied into another chat
    assert verify(other, 7001, data) is None  # signed with another key
    assert verify(key, 7001, "e:42:to:9") is None  # unsigned
    assert verify(key, 7001, data[:-1] + ("A" if data[-1] != "A" else "B")) is None
    for garbage in (None, "", "e", 5, "e:42:to:9:" + "A" * 60):
        assert verify(key, 7001, garbage) is None
    with pytest.raises(ValueError):
        sign(key, 1, "e:" + "1" * 50)  # would not fit once signed
