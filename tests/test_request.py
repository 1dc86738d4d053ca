"""Request: a defensive, typed reading of the scopes real servers and test clients pass."""

from __future__ import annotations

import pytest

from simple_websocket import Request


def test_full_scope_is_read_with_types() -> None:
    request = Request.from_scope(
        {
            "type": "websocket",
            "path": "/chat/room",
            "query_string": b"nick=ann&x=",
            "headers": [(b"Host", b"127.0.0.1"), (b"x-token", b"abc")],
            "client": ["127.0.0.1", 50000],
            "server": ("127.0.0.1", 8000),
            "scheme": "wss",
            "subprotocols": ["chat.v2", " chat.v1"],
        }
    )
    assert request.path == "/chat/room"
    assert request.query == [("nick", "ann"), ("x", "")]
    assert request.header("X-Token") == "abc"
    assert request.header("host") == "127.0.0.1"
    assert request.header("missing") is None
    assert request.client == ("127.0.0.1", 50000)
    assert request.server == ("127.0.0.1", 8000)
    assert request.scheme == "wss"
    assert request.subprotocols == ("chat.v2", "chat.v1")


def test_sparse_scope_gets_defaults() -> None:
    request = Request.from_scope({"type": "websocket"})
    assert (request.path, request.query_string, request.headers) == ("/", b"", ())
    assert (request.client, request.server, request.scheme, request.subprotocols) == (None, None, "ws", ())


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        (["127.0.0.1", "50000"], ("127.0.0.1", 50000)),  # granian gives the port as a str
        (("::1", 1), ("::1", 1)),
        (None, None),
        (["127.0.0.1"], None),
        (["127.0.0.1", "x"], None),
        ("127.0.0.1:1", None),
    ],
)
def test_client_address_is_normalised(client: object, expected: tuple[str, int] | None) -> None:
    assert Request.from_scope({"type": "websocket", "client": client}).client == expected


def test_junk_headers_and_subprotocols_are_skipped() -> None:
    request = Request.from_scope(
        {"type": "websocket", "headers": [(b"a", b"1"), "junk", (b"b",), ("c", "3")], "subprotocols": "a,, b"}
    )
    assert request.headers == ((b"a", b"1"), (b"c", b"3"))
    assert request.subprotocols == ("a", "b")


def test_pairs_and_names_of_the_wrong_types_are_skipped() -> None:
    request = Request.from_scope(
        {
            "type": "websocket",
            "headers": [(b"a", 1), (None, b"2"), [b"b", "2"], (b"c", b"3", b"extra"), b"ab"],
            "subprotocols": ["x", b"y", None, "z, w"],
        }
    )
    assert request.headers == ((b"b", b"2"),)
    assert request.subprotocols == ("x", "z", "w")
    request = Request.from_scope({"type": "websocket", "headers": b"a: 1", "subprotocols": 7})
    assert (request.headers, request.subprotocols) == ((), ())
