"""Origins: which web pages may open a connection, judged by the handshake's ``Origin`` header.

Browsers send the page's origin (``scheme://host[:port]``) with every WebSocket handshake and
attach the site's cookies whatever page opens it, so a server that trusts cookies must refuse
origins it does not expect (RFC 6455, section 10.2). Clients other than browsers may send any
``Origin`` or none: the check protects browser users, it does not authenticate anyone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeAlias

from ._events import Deny
from ._request import Request
from .exceptions import InvalidArgument

__all__ = ["SAME_ORIGIN", "Origins", "OriginsLike"]

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE,
)
_HOST = re.compile(r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)

# One origin as browsers serialise it: lower-case scheme and host, the port always explicit.
_Origin: TypeAlias = "tuple[str, str, int]"

DENIAL = Deny(403, ((b"content-type", b"text/plain; charset=utf-8"),), b"Origin not allowed\n")
"""What a refused origin gets: an HTTP 403 (a plain 403 close on servers without denial responses)."""


class Origins:
    """The origins allowed to open a connection.

    - ``"https://example.com"``: exactly that origin (the default port may be written or not;
      scheme and host are compared without regard to case).
    - ``"https://*.example.com"``: any subdomain of example.com, at any depth, on that scheme and
      port (not example.com itself: list it too).
    - ``"null"``: the opaque origin of sandboxed frames and local files; any such page can
      send it, so it admits far more than it seems to.
    - ``same_host=True``: also the origin whose host and port are those of the request's
      ``Host`` header (what the browser connected to), as Tornado checks by default.
    - ``allow_missing``: whether a handshake with no ``Origin`` header is admitted. Browsers
      always send one, so admitting its absence (the default) lets scripts and other
      non-browser clients in without opening the door to other sites' pages.

    A handshake with more than one ``Origin`` header, or one that is not a single serialised
    origin, is refused.
    """

    __slots__ = ("_exact", "_subdomains", "allow_missing", "allow_null", "same_host")

    def __init__(self, *allowed: str, same_host: bool = False, allow_missing: bool = True) -> None:
        exact: set[_Origin] = set()
        subdomains: set[_Origin] = set()
        allow_null = False
        for entry in allowed:
            if not isinstance(entry, str):
                raise InvalidArgument(f"an allowed origin is a str like 'https://example.com', not {entry!r:.100}")
            if entry == "null":
                allow_null = True
            elif "://*." in entry:
                scheme, _, rest = entry.partition("://*.")
                subdomains.add(_parse_allowed(f"{scheme}://{rest}", entry))
            else:
                exact.add(_parse_allowed(entry, entry))
        self._exact = frozenset(exact)
        self._subdomains = frozenset(subdomains)
        self.allow_null: bool = allow_null
        """Whether the opaque origin ``null`` is admitted (listed as ``"null"``)."""
        self.same_host: bool = same_host
        """Whether the origin matching the request's ``Host`` header is admitted."""
        self.allow_missing: bool = allow_missing
        """Whether a handshake without an ``Origin`` header is admitted."""

    @classmethod
    def of(cls, origins: OriginsLike) -> Origins:
        """``origins`` as an Origins: one origin string or a sequence of them become ``Origins(*them)``."""
        if isinstance(origins, Origins):
            return origins
        if isinstance(origins, str):
            return cls(origins)
        if isinstance(origins, Sequence):
            return cls(*origins)
        raise InvalidArgument(f"origins must be an Origins, a str or a sequence of str, not {type(origins).__name__}")

    def allows(self, request: Request) -> bool:
        """Whether the handshake ``request`` comes from an allowed origin (or from no browser page)."""
        values = [value for name, value in request.headers if name == b"origin"]
        if not values:
            return self.allow_missing
        if len(values) > 1:
            return False
        origin = values[0].decode("latin-1").strip()
        if origin == "null":
            return self.allow_null
        parsed = _parse(origin)
        if parsed is None:
            return False
        if parsed in self._exact:
            return True
        scheme, host, port = parsed
        if any(
            scheme == allowed_scheme and port == allowed_port and host.endswith("." + parent)
            for allowed_scheme, parent, allowed_port in self._subdomains
        ):
            return True
        return self.same_host and _is_host_of(parsed, request.header("host"))

    def __repr__(self) -> str:
        entries = [f"{s}://{h}:{p}" for s, h, p in sorted(self._exact)]
        entries += [f"{s}://*.{h}:{p}" for s, h, p in sorted(self._subdomains)]
        entries += ["null"] if self.allow_null else []
        options = f"same_host={self.same_host}, allow_missing={self.allow_missing}"
        return f"Origins({', '.join(repr(entry) for entry in entries)}{', ' if entries else ''}{options})"


OriginsLike: TypeAlias = Origins | str | Sequence[str]
"""Allowed origins: an ``Origins``, one origin string, or a sequence of them (see ``Origins``)."""

SAME_ORIGIN = Origins(same_host=True)
"""Pages from the host the request came to, and clients that send no Origin: ``websocket_app``'s default."""


def _parse(origin: str) -> _Origin | None:
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = _port(match["port"], scheme)
    if port is None or host.startswith(".") or host.endswith(".") or ".." in host:
        return None
    return scheme, host, port


def _parse_allowed(origin: str, entry: str) -> _Origin:
    parsed = _parse(origin) if origin.isascii() else None
    if parsed is None:
        raise InvalidArgument(
            f"not an origin: {entry!r:.100}; write 'scheme://host[:port]' (no path, no trailing slash, "
            "IDNA hosts in their xn-- form), 'scheme://*.domain' or 'null'"
        )
    return parsed


def _port(text: str | None, scheme: str) -> int | None:
    if text is None:
        return _DEFAULT_PORTS.get(scheme, 0)  # 0: a scheme without ports, as in chrome-extension://id
    port = int(text)
    return port if 0 < port <= 65535 else None


def _is_host_of(origin: _Origin, host_header: str | None) -> bool:
    """Whether ``origin`` names the host (and port) the request's Host header says it reached.

    The scheme is not compared: behind a proxy that terminates TLS the server sees ``ws`` for an
    ``https`` page. A Host without a port stands for the default port of the origin's scheme.
    """
    if host_header is None:
        return False
    match = _HOST.fullmatch(host_header.strip())
    if match is None:
        return False
    scheme, host, port = origin
    host_port = _port(match["port"], scheme)
    return match["host"].lower() == host and host_port == port
