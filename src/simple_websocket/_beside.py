"""Beside simple-websocket, which installs the same import name.

python-engineio (and with it python-socketio and Flask-SocketIO) depends on the simple-websocket
distribution, whose files pip merges into this package's folder: its ``ws.py``, ``aiows.py``,
``asgi.py`` and ``errors.py`` beside ours, and one ``__init__.py``, whichever was installed last.

- Ours installed last: ``theirs(name)`` serves simple-websocket's public names (``Server``,
  ``Client``...) from its own modules, on first use only; ``bridge_if_there()``, run by our
  ``__init__.py``, makes those modules raise a ConnectionClosed that is both theirs and ours
  (engineio catches ``simple_websocket.ConnectionClosed``).
- Theirs installed last: ``ensure_ours()``, run by the modules every other one imports, refuses to
  let this package's code run under simple-websocket's ``__init__.py`` and says how to repair it.

When simple-websocket is not installed, importing the package costs one stat call more.
"""

from __future__ import annotations

import sys

__all__ = ["REPAIR", "bridge_if_there", "ensure_ours", "theirs"]

PACKAGE = __name__.rpartition(".")[0]
#: What our ``__init__.py`` sets first, so that our modules know it is the one installed.
MARKER = "__simple_websocket_asgi__"
REPAIR = "pip install --force-reinstall --no-deps simple-websocket-asgi"

#: simple-websocket 1.x's public names, by the module of its that defines each.
_THEIRS = {"Server": "ws", "Client": "ws", "AioServer": "aiows", "AioClient": "aiows", "ConnectionError": "errors"}


def ensure_ours() -> None:
    """Raise ImportError if the installed ``simple_websocket/__init__.py`` is simple-websocket's."""
    package = sys.modules.get(PACKAGE)
    if package is not None and not getattr(package, MARKER, False):
        raise ImportError(
            f"{PACKAGE}/__init__.py is simple-websocket's, not simple-websocket-asgi's: both install the "
            f"import name {PACKAGE}, and simple-websocket (which python-engineio depends on) was installed "
            f"after this package. Repair the environment with: {REPAIR} "
            "(simple-websocket's own names keep working after it)",
            name=PACKAGE,
        )


def bridge_if_there() -> None:
    """If simple-websocket's errors.py is in this folder, put the bridged ConnectionClosed in place
    now, before anyone imports its modules (one stat call when it is not there)."""
    import os

    if os.path.exists(os.path.join(os.path.dirname(__file__), "errors.py")):
        _bridge_connection_closed()


def theirs(name: str) -> object:
    """simple-websocket's ``name`` from its own module, or AttributeError if it is not installed."""
    from importlib import import_module
    from importlib.util import find_spec

    module = _THEIRS.get(name)
    if module is None or find_spec(f"{PACKAGE}.{module}") is None:
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
    _bridge_connection_closed()
    value = getattr(import_module(f"{PACKAGE}.{module}"), name)
    setattr(sys.modules[PACKAGE], name, value)  # found once: engineio asks for Server per connection
    return value


def _bridge_connection_closed() -> None:
    """Make simple-websocket's modules raise a ConnectionClosed that is also ours.

    ``simple_websocket.ConnectionClosed`` is ours; engineio catches it around simple-websocket's
    Server, which raises simple-websocket's own. A subclass of both, put in their modules before
    (or after) they import it, is caught by either ``except``.
    """
    from importlib import import_module

    errors = import_module(f"{PACKAGE}.errors")
    their_class: type[Exception] = errors.ConnectionClosed
    if getattr(their_class, "_bridged", False):
        return
    from .exceptions import ConnectionClosed as Ours

    class ConnectionClosed(their_class, Ours):  # type: ignore[misc,valid-type]  # a class known at run time only
        """simple-websocket's ConnectionClosed, and this package's: what its Server and Client raise here."""

        _bridged = True

        def __init__(self, reason: object = 1005, message: str | None = None) -> None:
            code = reason if isinstance(reason, int) else 1005  # a CloseReason is an int too
            Ours.__init__(self, code, message or "", by_peer=True)

    ConnectionClosed.__module__ = errors.__name__
    for loaded in ("errors", "ws", "aiows", "asgi"):  # their modules imported already take it too
        module = sys.modules.get(f"{PACKAGE}.{loaded}")
        if module is not None and hasattr(module, "ConnectionClosed"):
            setattr(module, "ConnectionClosed", ConnectionClosed)  # noqa: B010  # a name of an untyped module
