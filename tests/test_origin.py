"""Origin checks: the matcher against a table of handshakes, then refusals on the in-memory transport."""

from __future__ import annotations

import pytest

from simple_websocket import (
    SAME_ORIGIN,
    Accept,
    ConnectionClosed,
    ConnectionState,
    Deny,
    InvalidArgument,
    OriginRefused,
    Origins,
    OriginsLike,
    Request,
)

from .support.memory import connection

pytestmark = pytest.mark.anyio

LISTED = Origins("https://app.example.com", "http://127.0.0.1:8000", "https://*.example.org", "http://[::1]:9000")


def request(*headers: tuple[str, str]) -> Request:
    return Request.from_scope({"type": "websocket", "headers": [(k.encode(), v.encode()) for k, v in headers]})


def origin(value: str, host: str = "app.example.com") -> Request:
    return request(("origin", value), ("host", host))


CASES: list[tuple[str, Origins, Request, bool]] = [
    # exact origins, as browsers serialise them
    ("exact", LISTED, origin("https://app.example.com"), True),
    ("another site", LISTED, origin("https://evil.example"), False),
    ("scheme differs", LISTED, origin("http://app.example.com"), False),
    ("case of scheme and host", LISTED, origin("HTTPS://App.Example.COM"), True),
    ("default port written", LISTED, origin("https://app.example.com:443"), True),
    ("other port", LISTED, origin("https://app.example.com:8443"), False),
    ("listed port", LISTED, origin("http://127.0.0.1:8000"), True),
    ("listed host, default port", LISTED, origin("http://127.0.0.1"), False),
    ("ipv6", LISTED, origin("http://[::1]:9000"), True),
    ("suffix is not a subdomain", LISTED, origin("https://evilapp.example.com"), False),
    ("listed host as a subdomain of another", LISTED, origin("https://app.example.com.evil.example"), False),
    # subdomains
    ("subdomain", LISTED, origin("https://chat.example.org"), True),
    ("deeper subdomain", LISTED, origin("https://a.b.example.org"), True),
    ("the parent itself", LISTED, origin("https://example.org"), False),
    ("look-alike parent", LISTED, origin("https://badexample.org"), False),
    ("subdomain, wrong scheme", LISTED, origin("http://chat.example.org"), False),
    ("subdomain, wrong port", LISTED, origin("https://chat.example.org:444"), False),
    # null, missing, malformed
    ("null not listed", LISTED, origin("null"), False),
    ("null listed", Origins("null"), origin("null"), True),
    ("missing, admitted by default", LISTED, request(("host", "app.example.com")), True),
    ("missing, refused", Origins("https://app.example.com", allow_missing=False), request(), False),
    ("two Origin headers", LISTED, request(("origin", "https://app.example.com"), ("origin", "https://x.y")), False),
    ("trailing slash", LISTED, origin("https://app.example.com/"), False),
    ("path", LISTED, origin("https://app.example.com/page"), False),
    ("no scheme", LISTED, origin("app.example.com"), False),
    ("userinfo", LISTED, origin("https://user@app.example.com"), False),
    ("port out of range", LISTED, origin("http://127.0.0.1:99999"), False),
    ("empty port", LISTED, origin("http://127.0.0.1:"), False),
    ("origin list", LISTED, origin("https://app.example.com https://evil.example"), False),
    ("empty value", LISTED, origin(""), False),
    ("dot tricks", LISTED, origin("https://app.example.com."), False),
    # same host as the Host header
    ("same host", SAME_ORIGIN, origin("http://127.0.0.1:8000", host="127.0.0.1:8000"), True),
    ("same host, any case", SAME_ORIGIN, origin("http://LocalHost:8000", host="localhost:8000"), True),
    ("same host, default port", SAME_ORIGIN, origin("https://example.com", host="example.com"), True),
    ("same host, https behind a proxy", SAME_ORIGIN, origin("https://example.com:443", host="example.com"), True),
    ("same host, other port", SAME_ORIGIN, origin("http://127.0.0.1:9000", host="127.0.0.1:8000"), False),
    ("other host", SAME_ORIGIN, origin("http://evil.example", host="127.0.0.1:8000"), False),
    ("localhost is not 127.0.0.1", SAME_ORIGIN, origin("http://localhost:8000", host="127.0.0.1:8000"), False),
    ("same host, no Host header", SAME_ORIGIN, request(("origin", "http://127.0.0.1:8000")), False),
    ("same host, malformed Host", SAME_ORIGIN, origin("http://a", host="a b"), False),
    ("same host, no Origin", SAME_ORIGIN, request(("host", "127.0.0.1:8000")), True),
    ("same host, null", SAME_ORIGIN, origin("null", host="127.0.0.1:8000"), False),
    ("same host off", Origins("https://x.example"), origin("http://127.0.0.1:8000", host="127.0.0.1:8000"), False),
    ("extension origin", Origins("chrome-extension://abcdef"), origin("chrome-extension://abcdef"), True),
]


@pytest.mark.parametrize(("policy", "handshake", "allowed"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_the_origin_table(policy: Origins, handshake: Request, allowed: bool) -> None:
    assert policy.allows(handshake) is allowed


@pytest.mark.parametrize(
    "entry",
    [
        "https://example.com/",
        "example.com",
        "https://",
        "https://ex ample.com",
        "https://bücher.example",
        "http://host:0",
        "*.example.com",
    ],
)
def test_a_malformed_allowed_origin_is_an_invalid_argument(entry: str) -> None:
    with pytest.raises(InvalidArgument, match="not an origin"):
        Origins(entry)


@pytest.mark.parametrize("value", [b"https://example.com", 3, None])
def test_origins_of_something_else_is_an_invalid_argument(value: object) -> None:
    with pytest.raises(InvalidArgument):
        Origins.of(value)  # type: ignore[arg-type]  # the runtime check under test


def test_origins_of_a_str_or_a_sequence() -> None:
    assert Origins.of("https://a.example").allows(origin("https://a.example"))
    assert Origins.of(["https://a.example", "https://b.example"]).allows(origin("https://b.example"))
    assert Origins.of(SAME_ORIGIN) is SAME_ORIGIN
    assert repr(Origins("https://a.example", "https://*.b.example", "null")) == (
        "Origins('https://a.example:443', 'https://*.b.example:443', 'null', same_host=False, allow_missing=True)"
    )


def scope_from(origin_header: str | None) -> dict[str, object]:
    headers = [(b"host", b"app.example.com")]
    if origin_header is not None:
        headers.append((b"origin", origin_header.encode()))
    return {"type": "websocket", "path": "/", "headers": headers}


ALLOWED: list[OriginsLike] = ["https://app.example.com", ["https://app.example.com"], SAME_ORIGIN]


@pytest.mark.parametrize("origins", ALLOWED)
async def test_open_accepts_an_allowed_origin(origins: OriginsLike) -> None:
    async with connection(scope=scope_from("https://app.example.com")) as pair:
        await pair.client.connect()
        await pair.ws.open(origins=origins)
        assert await pair.client.receive() == Accept(None)


async def test_open_refuses_a_foreign_origin_with_403_before_accepting() -> None:
    async with connection(scope=scope_from("https://evil.example")) as pair:
        await pair.client.connect()
        with pytest.raises(OriginRefused) as caught:
            await pair.ws.open(origins=SAME_ORIGIN)
        refusal = await pair.client.receive()
        assert isinstance(refusal, Deny) and refusal.status == 403 and refusal.body == b"Origin not allowed\n"
        assert caught.value.origin == "https://evil.example"
        assert (caught.value.reason, caught.value.by_peer) == (1008, False)
        assert pair.ws.state is ConnectionState.CLOSED
        assert pair.ws.close_info is caught.value
        with pytest.raises(ConnectionClosed):
            await pair.ws.send("never")


async def test_open_without_origins_checks_nothing() -> None:
    async with connection(scope=scope_from("https://evil.example")) as pair:
        await pair.client.connect()
        await pair.ws.open()
        assert await pair.client.receive() == Accept(None)


async def test_a_malformed_option_is_refused_before_waiting_for_the_client() -> None:
    async with connection(scope=scope_from(None)) as pair:
        with pytest.raises(InvalidArgument):
            await pair.ws.open(origins=["https://app.example.com/"])
        assert pair.ws.state is ConnectionState.CONNECTING


async def test_check_origin_leaves_an_allowed_connection_unanswered() -> None:
    async with connection(scope=scope_from("https://app.example.com")) as pair:
        await pair.client.connect()
        await pair.ws.check_origin(SAME_ORIGIN)
        assert pair.ws.state is ConnectionState.CONNECTING
        await pair.ws.reject(status=401, body=b"token?")
        refusal = await pair.client.receive()
        assert isinstance(refusal, Deny) and refusal.status == 401
