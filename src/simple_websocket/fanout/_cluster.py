"""RedisClusterBackend: RedisBackend's topics spread over the masters of a Redis Cluster."""

from __future__ import annotations

import binascii
import dataclasses
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

import anyio

from ..exceptions import BrokerUnavailable, InvalidArgument
from ._backend import Entry, Kind
from ._position import Position
from ._redis import (
    _CLUSTER,
    _CONNECTION_LOST,
    Purpose,
    RedisBackend,
    _check_epochs,
    _int,
    _list,
    found_entries,
    scripts,
    xread_command,
)
from ._resp import Arg, Reply, RespAddress, RespConnection, RespError

if TYPE_CHECKING:
    import coredis
    import coredis.client
    import coredis.retry

__all__ = ["RedisClusterBackend"]

#: Hash slots of a Redis Cluster.
_SLOTS = 16384
#: How long the blocking reads woken with CLIENT UNBLOCK may take to return before they are cancelled.
_UNBLOCK_GRACE = 0.05
#: Redirections (MOVED, ASK) one call follows before it gives up for this attempt.
_REDIRECTS = 5


class RedisClusterBackend(RedisBackend):
    """RedisBackend on a Redis Cluster (7.0 or newer): each topic lives on the master that holds its slot.

    ``url`` names any node, ``redis://[[user]:password@]host:port`` or ``rediss://``; the others
    are found from it (``CLUSTER SLOTS``). Every key of a topic carries the hash tag
    ``{namespace:topic}`` (braces in names escaped), so a topic's scripts run on one master, and
    topics spread over every master. Appends and reads go on plain connections to each master:
    reads are one pipelined batch per master, all masters at once, then one blocking read per
    topic when nothing is new. MOVED and ASK are followed; after a connection is lost the slot
    map is read again.

    Failover: replication is asynchronous, so a replica promoted after its master died may lack
    the last entries that subscribers already had. The first script that writes a topic on a new
    master (its replication id differs from the one that wrote the topic last) gives the topic a
    new epoch whose numbering continues after the counter: readers of the old one get a
    ``Gap`` (reset), and no seq is handed out twice in one epoch. With ``replicas=1``,
    publish() returns once a replica has the entry (``WAIT``), so nothing it confirmed is lost
    when a master dies. A slot moved to another master (resharding) also starts a new epoch.
    """

    _SCRIPT_SOURCES = scripts(_CLUSTER)

    def _prepare(self) -> None:
        self._seed: RespAddress = self._address or RespAddress()
        self._slots: list[RespAddress | None] = [None] * _SLOTS
        self._nodes: list[RespAddress] = [self._seed]  # every node seen, masters first
        self._stale = True  # the slot map must be read before the next call
        self._held: dict[str, set[str]] = {}  # owner -> topics it has members in (its liveness lives there)
        self._alive: dict[str, float] = {}  # owner -> until when it is known alive (anyio's clock)
        self._client_ids: dict[tuple[Purpose, RespAddress], tuple[RespConnection, int]] = {}

    @staticmethod
    def _parse(url: str) -> RespAddress | None:
        address = RespAddress.parse(url)
        if address is None or address.path is not None or address.db:
            raise InvalidArgument(
                f"a Redis Cluster URL is redis://[[user]:password@]host:port (database 0), not {url!r}"
            )
        return address

    def _coredis(self, retry: coredis.retry.RetryPolicy) -> coredis.client.Client[bytes]:
        import coredis
        from coredis.connection import TCPLocation

        seed = self._seed  # not from_url: coredis 6.9's warns (DeprecationWarning) for its own startup nodes
        client: coredis.RedisCluster[bytes] = coredis.RedisCluster(
            startup_nodes=[TCPLocation(seed.host, seed.port)],
            username=seed.username,
            password=seed.password,
            ssl=seed.tls,
            decode_responses=False,
            connect_timeout=self.timeout,
            stream_timeout=None,
            retry_policy=retry,
        )
        return client

    def _base(self, topic: str) -> str:
        return "{" + _escape(self.namespace) + ":" + _escape(topic) + "}"

    # -- slots and connections -------------------------------------------------------------

    def master_of(self, topic: str) -> RespAddress | None:
        """The master that holds ``topic`` as far as this backend knows (None before the first call)."""
        return self._slots[_slot(self._base(topic))]

    async def _refresh(self) -> None:
        """Read the slot map from the first node that answers."""
        for node in list(self._nodes):
            try:
                with anyio.fail_after(self.timeout):
                    connection = await RespConnection.open(node)
                    try:
                        reply = await connection.call("CLUSTER", "SLOTS")
                    finally:
                        await connection.aclose()
            except (OSError, TimeoutError, RespError, *_CONNECTION_LOST):
                continue
            if isinstance(reply, list):
                self._map(node, reply)
                return
        raise BrokerUnavailable(f"no node of the Redis Cluster answered (tried {len(self._nodes)})")

    def _map(self, asked: RespAddress, reply: list[Reply]) -> None:
        slots: list[RespAddress | None] = [None] * _SLOTS
        masters: list[RespAddress] = []
        replicas: list[RespAddress] = []
        for item in reply:
            start, end, *nodes = _list(item)
            for index, node in enumerate(nodes):
                host, port = _list(node)[:2]
                name = host.decode() if isinstance(host, bytes) and host not in (b"", b"?") else asked.host
                address = dataclasses.replace(asked, host=name, port=_int(port))
                (replicas if index else masters).append(address)
                if not index:
                    slots[_int(start) : _int(end) + 1] = [address] * (_int(end) - _int(start) + 1)
        self._slots = slots
        seen = [*masters, *replicas, *self._nodes, self._seed]
        self._nodes = list(dict.fromkeys(seen))
        self._stale = False

    async def _connection(self, purpose: Purpose, address: RespAddress) -> RespConnection:
        try:
            return await super()._connection(purpose, address)
        except OSError:
            self._stale = True  # a master that is gone: its replica may serve its slots now
            raise

    async def _master(self, slot: int) -> RespAddress:
        if self._stale:
            await self._refresh()
        address = self._slots[slot]
        if address is None:
            self._stale = True
            raise BrokerUnavailable(f"no master of the Redis Cluster serves slot {slot}")
        return address

    async def _run(self, purpose: Purpose, address: RespAddress, commands: list[list[Arg]], load: bool) -> list[Reply]:
        connection = await self._connection(purpose, address)
        try:
            return await (self._loaded(connection, commands) if load else connection.pipeline(commands))
        except (OSError, *_CONNECTION_LOST):
            self._stale = True
            raise

    async def _on_slot(
        self, slot: int, commands: list[list[Arg]], purpose: Purpose, *, load: bool = False
    ) -> list[Reply]:
        """``commands`` (keys of ``slot`` only) on the master that holds it, following MOVED and ASK."""
        address = await self._master(slot)
        for _ in range(_REDIRECTS):
            replies = await self._run(purpose, address, commands, load)
            redirect = _redirect(replies)
            if redirect is None:
                return replies
            kind, target = redirect
            target = dataclasses.replace(address, host=target.host or address.host, port=target.port)
            if kind == "MOVED":
                self._slots[slot] = address = target
                self._stale = True  # read the whole map again before the next call
                continue
            # ASK: this one call goes to the node the slot is migrating to.
            asking: list[list[Arg]] = []
            for command in commands:
                asking += [["ASKING"], command]
            replies = (await self._run(purpose, target, asking, False))[1::2]
            if load and isinstance(replies[0], RespError) and str(replies[0]).startswith("NOSCRIPT"):
                connection = await self._connection(purpose, target)
                await connection.call("SCRIPT", "LOAD", self._SCRIPT_SOURCES["append"])
                replies = (await self._run(purpose, target, asking, False))[1::2]
            if _redirect(replies) is None:
                return replies
        raise BrokerUnavailable(f"slot {slot} was redirected more than {_REDIRECTS} times")

    # -- the Backend protocol --------------------------------------------------------------

    async def append(self, topic: str, kind: Kind, payload: str | bytes, *, key: str) -> Position:
        keys, args = self._append_args(topic, kind, payload, key)
        with self._answering(wait=self._waits_for_replicas()):
            replies = await self._on_slot(_slot(keys[0]), self._append_commands(keys, args), ("append", ""), load=True)
        return self._appended(replies)

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        for purpose, address in [key for key in self._connections if key[0][0] == "wait"]:
            if purpose[1] not in cursors:  # a topic no longer read: its blocking connection goes
                self._client_ids.pop((purpose, address), None)
                await self._connections.pop((purpose, address)).aclose()
        keys = {topic: self._keys(topic) for topic in cursors}
        with self._answering(wait=timeout):
            if self._stale:
                await self._refresh()
            # First what is there already: one pipelined batch per master, every master at once.
            found = await self._batches(cursors, keys)
            if not any(reply is not None for reply, _ in found.values()):
                # Nothing new anywhere: wait on each topic (a blocking XREAD takes one slot's
                # keys) until the first has something; the others' connections are closed.
                found = await self._waits(cursors, keys, timeout)
        _check_epochs(cursors, [found[topic][1] if topic in found else cursors[topic].epoch for topic in cursors])
        entries: list[Entry] = []
        for topic, (reply, _) in found.items():
            entries += found_entries(reply, {keys[topic][0].encode(): topic})
        return entries

    async def _batches(
        self, cursors: Mapping[str, Position], keys: Mapping[str, list[str]]
    ) -> dict[str, tuple[Reply, Reply]]:
        by_master: dict[RespAddress, list[str]] = {}
        for topic in cursors:
            by_master.setdefault(await self._master(_slot(keys[topic][0])), []).append(topic)
        found: dict[str, tuple[Reply, Reply]] = {}

        async def batch(address: RespAddress, topics: list[str]) -> None:
            commands: list[list[Arg]] = []
            for topic in topics:
                commands += [xread_command([(keys[topic][0], cursors[topic])], None), ["GET", keys[topic][3]]]
            replies = await self._run(("read", ""), address, commands, False)
            if _redirect(replies) is not None:
                self._stale = True  # a slot moved: read the map again, then retry
                raise BrokerUnavailable("a topic's slot moved to another master")
            for index, topic in enumerate(topics):
                found[topic] = _read_reply(replies[2 * index], replies[2 * index + 1])

        await _all([partial(batch, address, topics) for address, topics in by_master.items()])
        return found

    async def _waits(
        self, cursors: Mapping[str, Position], keys: Mapping[str, list[str]], timeout: float
    ) -> dict[str, tuple[Reply, Reply]]:
        """One blocking XREAD per topic, each on its own connection, until the first has entries.

        The others are then woken with CLIENT UNBLOCK (their XREAD replies nil at once and the
        connection stays open for the next read); one not yet blocked when that came is cancelled
        after ``_UNBLOCK_GRACE`` (its connection closed).
        """
        found: dict[str, tuple[Reply, Reply]] = {}
        blocked: dict[str, tuple[RespAddress, int]] = {}  # topic -> its connection's master and client id
        pending = set(cursors)
        all_back = anyio.Event()
        with anyio.CancelScope() as scope:

            async def wait(topic: str) -> None:
                slot = _slot(keys[topic][0])
                address = await self._master(slot)
                blocked[topic] = (address, await self._client_id(("wait", topic), address))
                commands: list[list[Arg]] = [
                    xread_command([(keys[topic][0], cursors[topic])], timeout),
                    ["GET", keys[topic][3]],
                ]
                try:
                    replies = await self._on_slot(slot, commands, ("wait", topic))
                finally:
                    blocked.pop(topic, None)
                    pending.discard(topic)
                    if not pending:
                        all_back.set()
                found[topic] = _read_reply(*replies)
                if found[topic][0] is not None and blocked and not scope.cancel_called:
                    others = list(blocked.values())
                    blocked.clear()  # woken once
                    await self._unblock(others)
                    with anyio.move_on_after(_UNBLOCK_GRACE):
                        await all_back.wait()
                    scope.cancel()

            await _all([partial(wait, topic) for topic in cursors])
        return found

    async def _client_id(self, purpose: Purpose, address: RespAddress) -> int:
        """The client id of the connection for ``purpose`` to ``address`` (opened if it is not open)."""
        connection = await self._connection(purpose, address)
        known = self._client_ids.get((purpose, address))
        if known is None or known[0] is not connection:
            known = self._client_ids[purpose, address] = (connection, _int(await connection.call("CLIENT", "ID")))
        return known[1]

    async def _unblock(self, blocked: list[tuple[RespAddress, int]]) -> None:
        by_master: dict[RespAddress, list[list[Arg]]] = {}
        for address, client in blocked:
            by_master.setdefault(address, []).append(["CLIENT", "UNBLOCK", client])
        for address, commands in by_master.items():
            await self._run(("read", ""), address, commands, False)

    def _live_ms(self, owner: str) -> int:
        return max(0, math.ceil((self._alive.get(owner, 0.0) - anyio.current_time()) * 1000))

    async def join(self, topic: str, member: str, *, owner: str, session: str | None = None, take: bool = True) -> bool:
        joined = await super().join(topic, member, owner=owner, session=session, take=take)
        if joined:
            self._held.setdefault(owner, set()).add(topic)
        return joined

    async def heartbeat(self, owner: str, *, ttl: float) -> None:
        """Liveness kept in each topic where ``owner`` has members: each topic's script sees its own."""
        self._alive[owner] = anyio.current_time() + ttl
        ms = max(1, math.ceil(ttl * 1000))
        for topic in list(self._held.get(owner, ())):
            await self._script("live", self._keys(topic), [owner, ms])


async def _all(calls: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run ``calls`` at once; the first failure cancels the others and is raised as it is."""
    failures: list[BaseException] = []
    async with anyio.create_task_group() as group:

        async def run(call: Callable[[], Awaitable[None]]) -> None:
            try:
                await call()
            except Exception as error:  # re-raised below, outside the group
                failures.append(error)
                group.cancel_scope.cancel()

        for call in calls:
            group.start_soon(run, call)
    if failures:
        raise failures[0]


def _read_reply(found: Reply, epoch: Reply) -> tuple[Reply, Reply]:
    if isinstance(found, RespError) or isinstance(epoch, RespError):
        raise BrokerUnavailable(f"Redis refused the read: {found!r:.100} {epoch!r:.100}")
    return found, epoch


def _redirect(replies: Sequence[Reply]) -> tuple[str, RespAddress] | None:
    """("MOVED" or "ASK", where to) if a reply says the slot is served elsewhere."""
    for reply in replies:
        if isinstance(reply, RespError):
            kind, _, rest = str(reply).partition(" ")
            if kind in ("MOVED", "ASK"):
                host, _, port = rest.partition(" ")[2].rpartition(":")
                return kind, RespAddress(host=host, port=int(port))
    return None


def _escape(name: str) -> str:
    """``name`` with the characters that would end or start a hash tag escaped (and ``%`` itself)."""
    return name.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


def _slot(key: str) -> int:
    """The hash slot of ``key``, whose hash tag is its first ``{...}`` (CRC16/XMODEM, as Redis)."""
    raw = key.encode()
    start = raw.find(b"{")
    if start >= 0:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return binascii.crc_hqx(raw, 0) % _SLOTS
