"""Position: hashable, immutable, and its token parses back; hostile tokens are refused cleanly."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_websocket import InvalidArgument, UsageError
from simple_websocket.fanout import Position
from simple_websocket.fanout._position import MAX_SEQ, MAX_TOKEN

EPOCHS = st.text(alphabet="ABCXYZabcxyz0189._~-", min_size=1, max_size=64)


@given(seq=st.integers(0, MAX_SEQ), epoch=EPOCHS)
def test_a_token_parses_back_and_is_safe_in_urls_and_json(seq: int, epoch: str) -> None:
    position = Position(seq, epoch)
    token = position.token
    assert Position.parse(token) == position
    assert str(position) == token
    assert urllib.parse.quote(token, safe="") == token  # nothing to escape in a URL
    assert json.dumps(token) == f'"{token}"'  # nor in JSON
    assert len(token) <= MAX_TOKEN


def test_positions_are_immutable_and_hashable() -> None:
    position = Position(7, "1733300000.123456")
    assert position.token == "7.1733300000.123456"
    assert {position: 1}[Position(7, "1733300000.123456")] == 1
    assert position != Position(7, "another")
    with pytest.raises(dataclasses.FrozenInstanceError):
        position.seq = 8  # type: ignore[misc]  # the point of the test


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "7",
        "7.",
        ".epoch",
        "-1.e",
        "+1.e",
        "01.e",  # one spelling per position
        " 1.e",
        "1.e ",
        "1.e\n",
        "1.e/x",
        "1.e%20",
        "1.é",
        "٣.e",  # a non-ASCII digit
        "1." + "e" * 65,
        "9" * 19 + ".e",  # past 2**63 - 1: no backend numbers that far
        "9" * 5000 + ".e",
        "1" * 20 + ".e",
        "1.e" + "\x00",
    ],
)
def test_malformed_tokens_are_invalid_arguments(token: str) -> None:
    with pytest.raises(InvalidArgument):
        Position.parse(token)


@pytest.mark.parametrize("token", [None, 7, b"7.e", ["7.e"], {"seq": 7}])
def test_tokens_of_other_types_are_invalid_arguments(token: object) -> None:
    with pytest.raises(InvalidArgument, match="str"):
        Position.parse(token)


@given(st.text(max_size=200))
def test_any_text_parses_or_is_an_invalid_argument(token: str) -> None:
    try:
        position = Position.parse(token)
    except InvalidArgument:
        return
    assert position.token == token


def test_an_invalid_token_is_a_usage_error_and_a_value_error() -> None:
    assert issubclass(InvalidArgument, UsageError) and issubclass(InvalidArgument, ValueError)


@pytest.mark.parametrize(
    ("seq", "epoch"), [(-1, "e"), (MAX_SEQ + 1, "e"), (True, "e"), (1.0, "e"), (1, ""), (1, "a b"), (1, 7)]
)
def test_positions_are_checked_when_made(seq: object, epoch: object) -> None:
    with pytest.raises(InvalidArgument):
        Position(seq, epoch)  # type: ignore[arg-type]  # the point of the test
