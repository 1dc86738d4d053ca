"""One address for several chat processes: a TCP proxy on 127.0.0.1 that a test can cut like a network.

Each new connection goes to the next process in turn (round-robin), or to the one a test pinned;
a process that refuses (it was killed) is skipped for the next one, so pages reconnect to whichever
is still alive. ``cut()`` is a network failure: every connection is reset at once (RST, no close
frame, no FIN) and new ones are refused until ``restore()``. With ``refuse_websockets`` set, it
answers WebSocket handshakes (``GET /ws``) with 403 itself, as a server refusing the page's Origin
would, and forwards everything else. Threads, not an event loop, so that it
runs beside Playwright's synchronous API; it is stopped, every connection closed, by ``close()``.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .servers import HOST, free_port

#: How long a proxy thread may block before it looks at its flags again (seconds).
TICK = 0.05
#: How long connecting to one process may take before the next one is tried.
CONNECT_TIMEOUT = 2.0
#: How long stopping waits for the proxy's threads.
JOIN_TIMEOUT = 5.0
REFUSAL = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (SO_LINGER 0), as a failing network or middlebox would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Link:
    """One client connection and the process connection it is forwarded to."""

    def __init__(self, client: socket.socket, server: socket.socket, target: int, refuse_websockets: bool) -> None:
        self.client = client
        self.server = server
        self.target = target
        self.refuse_websockets = refuse_websockets
        self.aborted = threading.Event()
        self.thread = threading.Thread(target=self._pump, name=f"chat-proxy-link-{target}", daemon=True)

    def abort(self) -> None:
        """Reset both sides now (the pump thread closes them; this wakes it)."""
        self.aborted.set()
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RD)  # sends nothing: it only wakes the pump's select
            except OSError:
                pass

    def _pump(self) -> None:
        """Copy both ways until both sides closed (a FIN is passed on as a FIN), a side fails (a
        reset is passed on as a reset), or the link is aborted (both sides reset)."""
        peer = {self.client: self.server, self.server: self.client}
        reset = True
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            open_sides = 2
            try:
                while open_sides and not self.aborted.is_set():
                    for key, _ in selector.select(TICK):
                        source: socket.socket = key.fileobj  # type: ignore[assignment]  # only sockets are registered
                        try:
                            chunk = source.recv(65536)
                        except BlockingIOError:
                            continue
                        if self.aborted.is_set():
                            return
                        sink = peer[source]
                        if self.refuse_websockets and source is self.client and chunk.startswith(b"GET /ws"):
                            self.client.setblocking(True)
                            self.client.sendall(REFUSAL)
                            reset = False
                            return
                        if not chunk:  # a FIN: pass it on, keep the other direction going
                            selector.unregister(source)
                            sink.shutdown(socket.SHUT_WR)
                            open_sides -= 1
                            continue
                        sink.settimeout(CONNECT_TIMEOUT)
                        sink.sendall(chunk)
                        sink.setblocking(False)
                reset = open_sides > 0
            except OSError:
                pass  # a reset or a failed send: reset both sides
            finally:
                for sock in peer:
                    if reset:
                        _reset(sock)
                    else:
                        sock.close()


class SpreadingProxy:
    """Forwards connections on its own port to the chat processes on ``ports``."""

    def __init__(self, ports: Sequence[int]) -> None:
        self.ports = list(ports)
        self.port = free_port()
        self.connections = 0
        """How many connections it forwarded so far."""
        self.refused = 0
        """How many it reset because no process took them (or because it was cut)."""
        self.refuse_websockets = False
        """Answer WebSocket handshakes with 403 (new connections), as an Origin refusal."""
        self._next = 0
        self._pinned: int | None = None
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listening = threading.Event()
        self._acceptor: threading.Thread | None = None

    @property
    def page(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def pin(self, index: int | None) -> None:
        """Send new connections to process ``index`` first (None: round-robin again)."""
        with self._lock:
            self._pinned = index

    def start(self) -> None:
        """Listen (again) on the proxy's port and forward what comes in."""
        assert self._acceptor is None, "already listening"
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        listener.settimeout(TICK)
        self._listening.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), name="chat-proxy", daemon=True)
        self._acceptor.start()

    restore = start

    def cut(self) -> None:
        """A network cut: reset every forwarded connection at once and refuse new ones."""
        self._stop_listening()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.abort()
        for link in links:
            link.thread.join(JOIN_TIMEOUT)

    close = cut

    def _stop_listening(self) -> None:
        self._listening.clear()
        if self._acceptor is not None:
            self._acceptor.join(JOIN_TIMEOUT)
            self._acceptor = None

    def _order(self) -> list[int]:
        with self._lock:
            if self._pinned is not None:
                first = self._pinned
            else:
                first = self._next
                self._next = (self._next + 1) % len(self.ports)
        return [(first + step) % len(self.ports) for step in range(len(self.ports))]

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                self._forward(client)
        # Closing the listener resets whatever waited in its backlog: refused, as a cut network.

    def _forward(self, client: socket.socket) -> None:
        client.settimeout(None)
        for index in self._order():
            try:
                server = socket.create_connection((HOST, self.ports[index]), timeout=CONNECT_TIMEOUT)
            except OSError:
                continue  # that process is gone: the next one
            server.settimeout(None)
            link = _Link(client, server, index, self.refuse_websockets)
            with self._lock:
                if not self._listening.is_set():  # cut meanwhile
                    _reset(client)
                    _reset(server)
                    self.refused += 1
                    return
                self._links = [known for known in self._links if known.thread.is_alive()]
                self._links.append(link)
                self.connections += 1
            link.thread.start()
            return
        self.refused += 1
        _reset(client)


@contextmanager
def spreading_proxy(ports: Sequence[int]) -> Iterator[SpreadingProxy]:
    """A running SpreadingProxy to ``ports``; every connection reset and the port closed on exit."""
    proxy = SpreadingProxy(ports)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
