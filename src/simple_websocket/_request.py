"""Request: a typed, defensive reading of the ASGI scope that opened a connection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .typing import Headers, Scope


@dataclass(frozen=True, slots=True)
class Request:
    """What the client asked for. Missing scope keys (sparse test-client scopes) get defaults."""

    path: str
    query_string: bytes
    headers: Headers
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    scheme: str
    subprotocols: tuple[str, ...]
    scope: Scope

    @classmethod
    def from_scope(cls, scope: Scope) -> Request:
        """Read ``scope`` without trusting any key but ``type``."""
        path = scope.get("path")
        query = scope.get("query_string")
        scheme = scope.get("scheme")
        return cls(
            path=path if isinstance(path, str) else "/",
            query_string=_to_bytes(query) if isinstance(query, (str, bytes)) else b"",
            headers=_headers(scope.get("headers")),
            client=_client(scope.get("client")),
            server=_server(scope.get("server")),
            scheme=scheme if isinstance(scheme, str) else "ws",
            subprotocols=offered_subprotocols(scope.get("subprotocols")),
            scope=scope,
        )

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), decoded as latin-1, or None."""
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key == wanted:
                return value.decode("latin-1")
        return None

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query string as decoded (name, value) pairs, in order."""
        return parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)


def offered_subprotocols(value: object) -> tuple[str, ...]:
    """Subprotocol names the client offered, stripped of stray spaces, in its order."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        return ()
    names: list[str] = []
    for entry in value:
        if isinstance(entry, str):
            names.extend(name.strip() for name in entry.split(",") if name.strip())
    return tuple(names)


def _to_bytes(value: str | bytes) -> bytes:
    return value.encode("latin-1", "replace") if isinstance(value, str) else value


def _headers(value: object) -> Headers:
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
        return ()
    pairs: list[tuple[bytes, bytes]] = []
    for pair in value:
        if isinstance(pair, (tuple, list)) and len(pair) == 2:
            key, val = pair
            if isinstance(key, (str, bytes)) and isinstance(val, (str, bytes)):
                pairs.append((_to_bytes(key).lower(), _to_bytes(val)))
    return tuple(pairs)


def _port(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _client(value: object) -> tuple[str, int] | None:
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str):
        port = _port(value[1])
        if port is not None:
            return (value[0], port)
    return None


def _server(value: object) -> tuple[str, int | None] | None:
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str):
        return (value[0], _port(value[1]))
    return None
