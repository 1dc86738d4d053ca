"""RedisBackend: topics as capped Redis Streams, presence as hashes, shared by every process."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeAlias

import anyio
from typing_extensions import Self

from ..exceptions import BrokerUnavailable, InvalidArgument
from ._backend import Entry, Head, Kind, Stamped
from ._position import Position, trusted
from ._resp import Arg, Reply, RespAddress, RespConnection, RespError

if TYPE_CHECKING:
    import coredis
    import coredis.client
    import coredis.retry

__all__ = ["RedisBackend"]

# Every script works on one topic's keys: KEYS[1] its stream, KEYS[2] its entry counter, KEYS[3] its
# members (member -> owner), KEYS[4] its epoch, KEYS[5] its members' sessions (member -> session
# digest), KEYS[6] its owners' liveness (member owner -> until, on a cluster), KEYS[7] the
# replication id of the master that last wrote it (on a cluster). Entries are appended with an
# explicit id "<seq>-0", seq coming from the counter in the same atomic step: ids are 1, 2, 3... so
# a reader tells a gap from the numbers alone. Each entry has fields k (its Kind), d (its payload)
# and t (Redis's clock when it was appended, "<seconds>.<microseconds>": the fan-out's lag). The
# epoch is set when the topic's data is created (by its first entry or the first look at it): a
# Redis that lost its data gets a new epoch, which readers notice. The scripts start with a
# preamble of the deployment's (_SERVER or _CLUSTER): how an owner's liveness is checked, and
# whether a new master means a new epoch.
_TOPIC = """
local function epoch()
  local now = redis.call('TIME')
  redis.call('SET', KEYS[4], now[1] .. '.' .. now[2], 'NX')
end
local function add(retention, kind, data)
  local seq = redis.call('INCR', KEYS[2])
  if seq == 1 then epoch() end
  local now = redis.call('TIME')
  local t = now[1] .. '.' .. string.format('%06d', now[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', retention, seq .. '-0', 'k', kind, 'd', data, 't', t)
  return seq
end
"""

# One server: owner liveness is a key of its own per owner (prefix ARGV given to reap); a server
# has no failover, so its epoch changes only when it lost its data.
_SERVER = """
local function fence() end
local function previous() return false end
local function was_epoch(at, til) return false end
local function live(owner, ms) end
local function alive(prefix, owner) return redis.call('EXISTS', prefix .. owner) == 1 end
local function forget_dead() end
"""

# A cluster: each key a script touches must be declared and in the topic's slot, so owners'
# liveness is kept per topic (KEYS[6]: owner -> until, in ms of this master's clock), refreshed by
# heartbeats. Replication is asynchronous: a replica promoted after its master died may lack the
# last entries, and would number the next ones with seqs readers already had. Every script that
# writes first compares the master's replication id (a promotion changes it) with the one that
# wrote the topic last: on a new one the topic gets a new epoch whose numbering starts after the
# counter ("<time>~<seq>"), so no seq is ever handed out twice in one epoch.
_CLUSTER = """
local function ms_now()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
local function fence()
  local id = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
  local was = redis.call('GET', KEYS[7])
  if was and string.match(was, '^(%w+)') == id then return end
  local old = redis.call('GET', KEYS[4])
  if was and old then
    local now = redis.call('TIME')
    local base = redis.call('GET', KEYS[2]) or '0'
    redis.call('SET', KEYS[4], now[1] .. '.' .. now[2] .. '~' .. base)
    redis.call('SET', KEYS[7], id .. ' ' .. old .. ' ' .. base)
  else
    redis.call('SET', KEYS[7], id)
  end
end
-- The epoch before the last new master's, and the last seq it numbered (entries up to it are its).
local function previous()
  local was = redis.call('GET', KEYS[7])
  if not was then return false end
  return string.match(was, '^%w+ (%S+) %d+$') or false
end
local function was_epoch(at, til)
  local was = redis.call('GET', KEYS[7])
  local old, base = string.match(was or '', '^%w+ (%S+) (%d+)$')
  return old == at and tonumber(string.match(til, '^(%d+)')) <= tonumber(base)
end
local function live(owner, ms)
  if tonumber(ms) > 0 then redis.call('HSET', KEYS[6], owner, string.format('%d', ms_now() + tonumber(ms))) end
end
local function alive(prefix, owner)
  local til = redis.call('HGET', KEYS[6], owner)
  return til ~= false and tonumber(til) > ms_now()
end
local function forget_dead()
  local owners = redis.call('HGETALL', KEYS[6])
  local now = ms_now()
  for i = 1, #owners, 2 do
    if tonumber(owners[i + 1]) <= now then redis.call('HDEL', KEYS[6], owners[i]) end
  end
end
"""

# KEYS[8]: the publish's key, remembered for the dedup window (with the position it got) so that a
# retry appends nothing. A retry rewrites it: a write after which WAIT (durable mode) counts
# replicas that have the entry, even on a new connection.
_APPEND = """
fence()
local done = redis.call('GET', KEYS[8])
if done then
  redis.call('PEXPIRE', KEYS[8], ARGV[4])
  local seq, at = string.match(done, '^(%d+) (.*)$')
  return {tonumber(seq), at}
end
local seq = add(ARGV[1], ARGV[2], ARGV[3])
local at = redis.call('GET', KEYS[4])
redis.call('SET', KEYS[8], seq .. ' ' .. at, 'PX', ARGV[4])
return {seq, at}
"""

# Entries after ARGV[2] up to ARGV[3] (stream ids), at most ARGV[4], if the epoch is still ARGV[1].
_REPLAY = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] and not was_epoch(ARGV[1], ARGV[3]) then return false end
return redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
"""

_HEAD = """
fence()
epoch()
return {redis.call('GET', KEYS[2]) or '0', redis.call('HKEYS', KEYS[3]), redis.call('GET', KEYS[4]), previous()}
"""

# ARGV[7]: for how many more ms the owner is known to be alive (liveness on a cluster; 0: unknown).
_JOIN = """
fence()
live(ARGV[3], ARGV[7])
local owner = redis.call('HGET', KEYS[3], ARGV[2])
if owner then
  if owner == ARGV[3] then return 1 end
  if ARGV[6] == '1' and ARGV[5] ~= '' and redis.call('HGET', KEYS[5], ARGV[2]) == ARGV[5] then
    redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[5], ARGV[2], ARGV[5]) end
add(ARGV[1], ARGV[4], ARGV[2])
return 1
"""

_LEAVE = """
fence()
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
add(ARGV[1], ARGV[4], ARGV[2])
return 1
"""

# On one server, owners' liveness keys are named from the hash's values (ARGV[2] + owner): keys
# the script cannot declare, which one server allows. On a cluster, liveness is KEYS[6].
_REAP = """
fence()
local fields = redis.call('HGETALL', KEYS[3])
local reaped = 0
for i = 1, #fields, 2 do
  if not alive(ARGV[2], fields[i + 1]) then
    redis.call('HDEL', KEYS[3], fields[i])
    redis.call('HDEL', KEYS[5], fields[i])
    add(ARGV[1], ARGV[3], fields[i])
    reaped = reaped + 1
  end
end
forget_dead()
return reaped
"""

# An owner's heartbeat in one topic (a cluster's liveness): alive for ARGV[2] more ms.
_LIVE = """
live(ARGV[1], ARGV[2])
return 1
"""

_SCRIPTS = {
    "append": _APPEND,
    "head": _HEAD,
    "join": _JOIN,
    "leave": _LEAVE,
    "live": _LIVE,
    "reap": _REAP,
    "replay": _REPLAY,
}


def scripts(preamble: str) -> dict[str, str]:
    """Every script's source for a deployment (``_SERVER`` or ``_CLUSTER``)."""
    return {name: preamble + _TOPIC + body for name, body in _SCRIPTS.items()}


_SERVER_SCRIPTS = scripts(_SERVER)

#: What a plain connection is for (appends, reads, one topic's blocking read) and its topic, if any.
Purpose: TypeAlias = "tuple[str, str]"

#: Entries one read returns at most, per topic.
_READ_COUNT = 1024

# What a plain connection's failures look like, besides OSError.
_CONNECTION_LOST = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)


class RedisBackend:
    """Topics shared by every process that uses the same Redis server (7.0 or newer).

    Each topic is a Redis Stream capped at ``retention`` entries: a process cut off from Redis
    gets what was published meanwhile, in order and once, if it is back before ``retention``
    newer entries pushed it out; otherwise it gets a Gap. For messages to survive a Redis
    restart, run Redis with ``appendonly yes`` (``appendfsync always`` loses nothing that
    publish() confirmed). Keys start with ``namespace``. Needs the ``redis`` extra (coredis).

    ``url`` is ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` (TLS) or
    ``unix://[[user]:password@]/path``; a URL with a query (coredis's options) works too, at a
    higher cost per message: appends and reads then go through coredis as well.

    ``replicas`` (durable mode): publish() returns only once that many replicas of the master hold
    the entry (``WAIT``, up to ``timeout``); otherwise it retries and, after the Broker's
    ``publish_timeout``, raises BrokerUnavailable. A master that dies then loses nothing that
    publish() confirmed. Not with a URL that has a query.
    """

    #: The scripts' preamble: how this deployment checks liveness and follows failovers.
    _SCRIPT_SOURCES = _SERVER_SCRIPTS

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        retention: int = 1000,
        namespace: str = "simple_websocket",
        timeout: float = 5.0,
        dedup_window: float = 60.0,
        replicas: int = 0,
    ) -> None:
        if retention < 1:
            raise InvalidArgument(f"retention must be at least 1, got {retention}")
        if timeout <= 0 or dedup_window <= 0:
            raise InvalidArgument("timeout and dedup_window must be positive")
        if replicas < 0:
            raise InvalidArgument(f"replicas must be 0 or more, got {replicas}")
        self.url = url
        self.retention = retention
        self.namespace = namespace
        self.timeout = timeout
        self.dedup_window = dedup_window
        self.replicas = replicas
        self._client: coredis.client.Client[bytes] | None = None
        self._scripts: dict[str, coredis.commands.Script[bytes]] = {}
        # Appends and reads on plain connections of their own (the reader's blocks in XREAD).
        self._address = self._parse(url)
        if replicas and self._address is None:
            raise InvalidArgument("replicas (durable mode) needs a URL without a query")
        self._append_sha = hashlib.sha1(self._SCRIPT_SOURCES["append"].encode()).hexdigest()
        # Plain connections by what they are for (appends, reads) and where they go.
        self._connections: dict[tuple[Purpose, RespAddress], RespConnection] = {}
        self._prepare()

    def _prepare(self) -> None:
        """Set up what a subclass keeps besides (called last by ``__init__``)."""

    # -- connection ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            from coredis.retry import NoRetryPolicy
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("RedisBackend needs coredis: pip install 'simple-websocket-asgi[redis]'") from error

        # No retries inside coredis: a lost connection must reach the Broker, which retries with
        # backoff, deduplicates publishes and, after an outage, checks whether Redis lost its data.
        client = self._coredis(NoRetryPolicy())
        await client.__aenter__()
        self._client = client
        self._scripts = {name: client.register_script(source) for name, source in self._SCRIPT_SOURCES.items()}
        return self

    @staticmethod
    def _parse(url: str) -> RespAddress | None:
        return RespAddress.parse(url)

    def _coredis(self, retry: coredis.retry.RetryPolicy) -> coredis.client.Client[bytes]:
        import coredis

        client: coredis.Redis[bytes] = coredis.Redis.from_url(
            self.url, decode_responses=False, connect_timeout=self.timeout, stream_timeout=None, retry_policy=retry
        )
        return client

    async def __aexit__(self, *exc_info: object) -> None:
        client, self._client = self._client, None
        connections, self._connections = self._connections, {}
        for connection in connections.values():
            await connection.aclose()
        if client is not None:
            await client.__aexit__(None, None, None)

    async def _plain(self, address: RespAddress, *, reader: bool) -> RespConnection:
        """The reader's or the appenders' connection, opened if it is not open (inside ``_answering``)."""
        self._redis()  # connected at all
        return await self._connection(("read" if reader else "append", ""), address)

    async def _connection(self, purpose: Purpose, address: RespAddress) -> RespConnection:
        """The plain connection to ``address`` for ``purpose``, opened if it is not open."""
        current = self._connections.get((purpose, address))
        if current is not None and not current.closed:
            return current
        try:
            opened = await RespConnection.open(address)
        except RespError as error:
            raise BrokerUnavailable(f"Redis refused the connection: {error}") from error
        current = self._connections.get((purpose, address))
        if current is not None and not current.closed:  # another task opened one meanwhile
            await opened.aclose()
            return current
        self._connections[purpose, address] = opened
        return opened

    def _redis(self) -> coredis.client.Client[bytes]:
        if self._client is None:
            raise BrokerUnavailable("the RedisBackend is not connected: enter its Broker first")
        return self._client

    def _base(self, topic: str) -> str:
        """What every key of ``topic`` starts with."""
        return f"{self.namespace}:t:{topic}"

    def _keys(self, topic: str) -> list[str]:
        base = self._base(topic)
        return [
            f"{base}:stream",
            f"{base}:seq",
            f"{base}:members",
            f"{base}:epoch",
            f"{base}:sessions",
            f"{base}:owners",
            f"{base}:lineage",
        ]

    def _append_args(self, topic: str, kind: Kind, payload: str | bytes, key: str) -> tuple[list[str], list[Arg]]:
        """The append script's keys (the topic's and the publish's dedup key) and arguments."""
        keys = [*self._keys(topic), f"{self._base(topic)}:k:{key}"]
        return keys, [self.retention, int(kind), payload, math.ceil(self.dedup_window * 1000)]

    def _append_commands(self, keys: list[str], args: list[Arg]) -> list[list[Arg]]:
        """The append's EVALSHA and, in durable mode, its WAIT: one pipelined round trip."""
        commands: list[list[Arg]] = [["EVALSHA", self._append_sha, len(keys), *keys, *args]]
        if self.replicas:
            commands.append(["WAIT", self.replicas, max(1, math.ceil(self.timeout * 1000))])
        return commands

    def _waits_for_replicas(self) -> float:
        """How long an append may wait for replicas besides ``timeout``: its WAIT, and a second
        one when the first went with an EVALSHA that found no script (NOSCRIPT)."""
        return 2 * self.timeout if self.replicas else 0.0

    def _appended(self, replies: Sequence[object]) -> Position:
        """The position an append's replies name; BrokerUnavailable for a refusal or too few replicas."""
        reply = replies[0]
        if isinstance(reply, RespError):
            raise BrokerUnavailable(f"Redis refused the append: {reply}")
        if self.replicas and (not isinstance(replies[1], int) or replies[1] < self.replicas):
            raise BrokerUnavailable(f"{replies[1]!r} of {self.replicas} replicas acknowledged the append in time")
        if not isinstance(reply, list) or len(reply) != 2:
            raise BrokerUnavailable(f"unexpected reply from Redis: {reply!r:.100}")
        return trusted(_int(reply[0]), _text(reply[1]))

    @contextmanager
    def _answering(self, wait: float = 0.0) -> Iterator[None]:
        """Bound the calls inside to ``wait`` + ``timeout`` seconds; Redis's failures become BrokerUnavailable."""
        import coredis.exceptions

        try:
            with anyio.fail_after(wait + self.timeout):
                yield
        except TimeoutError as error:
            raise BrokerUnavailable(f"Redis did not answer within {self.timeout} s") from error
        except (coredis.exceptions.RedisError, OSError, *_CONNECTION_LOST) as error:
            raise BrokerUnavailable(f"Redis is unavailable: {str(error) or type(error).__name__}") from error

    async def _script(self, name: str, keys: list[str], args: Sequence[Arg]) -> object:
        self._redis()
        with self._answering():
            return await self._scripts[name](keys, args)

    # -- the Backend protocol --------------------------------------------------------------

    async def append(self, topic: str, kind: Kind, payload: str | bytes, *, key: str) -> Position:
        keys, args = self._append_args(topic, kind, payload, key)
        if self._address is None:
            reply = await self._script("append", keys, args)
            return self._appended([reply if isinstance(reply, list) else None])
        with self._answering(wait=self._waits_for_replicas()):
            appender = await self._plain(self._address, reader=False)
            replies = await self._loaded(appender, self._append_commands(keys, args))
        return self._appended(replies)

    async def _loaded(self, connection: RespConnection, commands: list[list[Arg]]) -> list[Reply]:
        """Run ``commands`` (an append's), loading the script where Redis does not have it yet."""
        replies = await connection.pipeline(commands)
        if isinstance(replies[0], RespError) and str(replies[0]).startswith("NOSCRIPT"):
            await connection.call("SCRIPT", "LOAD", self._SCRIPT_SOURCES["append"])
            replies = await connection.pipeline(commands)
        return replies

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        if self._address is not None:
            return await self._read_plain(self._address, cursors, timeout)
        import coredis

        redis = self._redis()
        assert isinstance(redis, coredis.Redis)  # the cluster's backend reads its own way
        keys = {topic: self._keys(topic) for topic in cursors}
        streams = {key[0]: f"{cursors[topic].seq}-0" for topic, key in keys.items()}
        topics = {key[0].encode(): topic for topic, key in keys.items()}
        block = max(1, math.ceil(timeout * 1000))
        with self._answering(wait=timeout):
            # One connection for both, the epochs read right after the entries: entries from a
            # Redis that lost its data (even behind a connection that came back unnoticed) are
            # never taken for the ones that follow the cursor.
            async with redis.pipeline(transaction=False) as pipeline:
                found_reply = pipeline.xread(streams, count=_READ_COUNT, block=block)
                epochs_reply = pipeline.mget([key[3] for key in keys.values()])
            found = await found_reply
            epochs = await epochs_reply
        _check_epochs(cursors, epochs)
        if not found:
            return ()
        entries: list[Entry] = []
        for key, stream in found.items():
            topic = topics[key]
            for item in stream:
                entries.append(_entry(topic, item.identifier, item.field_values))
        return entries

    async def _read_plain(
        self, address: RespAddress, cursors: Mapping[str, Position], timeout: float
    ) -> Sequence[Entry]:
        """``read()`` on the reader's own connection: XREAD and the epochs' MGET in one round trip."""
        names = list(cursors)
        keys = [self._keys(topic) for topic in names]
        xread = xread_command([(key[0], cursors[topic]) for topic, key in zip(names, keys, strict=True)], timeout)
        with self._answering(wait=timeout):
            reader = await self._plain(address, reader=True)
            found, epochs = await reader.pipeline([xread, ["MGET", *(key[3] for key in keys)]])
        if not isinstance(epochs, list) or len(epochs) != len(names) or isinstance(found, RespError):
            raise BrokerUnavailable(f"unexpected reply from Redis: {found!r:.100} {epochs!r:.100}")
        _check_epochs(cursors, epochs)
        return found_entries(found, {key[0].encode(): topic for topic, key in zip(names, keys, strict=True)})

    async def head(self, topic: str) -> Head:
        reply = await self._script("head", self._keys(topic), [])
        if not isinstance(reply, list) or len(reply) != 4 or not isinstance(reply[1], list):
            raise BrokerUnavailable(f"unexpected reply from Redis: {reply!r:.100}")
        epoch = _text(reply[2])
        # A new epoch after a failover ("<time>~<seq>") numbers its entries after that seq.
        start = int(epoch.rpartition("~")[2]) if "~" in epoch else 0
        previous = None if reply[3] is None else _text(reply[3])
        return Head(_int(reply[0]), frozenset(_text(member) for member in reply[1]), epoch, start, previous)

    async def history(self, topic: str, limit: int, *, until: int | None = None) -> Sequence[Entry]:
        if limit <= 0 or (until is not None and until <= 0):
            return ()
        redis = self._redis()
        key = self._keys(topic)[0]
        found: list[Entry] = []
        end = "+" if until is None else f"{until}-0"
        with self._answering():
            while len(found) < limit:
                page = await redis.xrevrange(key, end=end, count=min(_READ_COUNT, 2 * limit))
                for item in page:
                    entry = _entry(topic, item.identifier, item.field_values)
                    if entry.kind is Kind.TEXT or entry.kind is Kind.BINARY:
                        found.append(entry)
                        if len(found) == limit:
                            break
                if len(page) < min(_READ_COUNT, 2 * limit):
                    break
                end = f"({_text(page[-1].identifier)}"
        found.reverse()
        return found

    async def replay(self, topic: str, after: Position, until: int) -> Sequence[Entry] | None:
        found: list[Entry] = []
        start = after.seq + 1
        while start <= until:
            reply = await self._script(
                "replay", self._keys(topic), [after.epoch, f"{start}-0", f"{until}-0", _READ_COUNT]
            )
            if reply is None:
                return None
            if not isinstance(reply, list):
                raise BrokerUnavailable(f"unexpected reply from Redis: {reply!r:.100}")
            for item in reply:
                if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], list):
                    raise BrokerUnavailable(f"unexpected reply from Redis: {item!r:.100}")
                values = item[1]
                found.append(_entry(topic, item[0], dict(zip(values[::2], values[1::2], strict=True))))
            if len(reply) < _READ_COUNT or found[0].seq != after.seq + 1:
                break  # all read, or the first ones are gone already: the Broker reports a Gap
            start = found[-1].seq + 1
        return found

    async def join(self, topic: str, member: str, *, owner: str, session: str | None = None, take: bool = True) -> bool:
        args: list[Arg] = [
            self.retention,
            member,
            owner,
            int(Kind.JOIN),
            session or "",
            int(take),
            self._live_ms(owner),
        ]
        return _int(await self._script("join", self._keys(topic), args)) == 1

    def _live_ms(self, owner: str) -> int:
        """For how many more ms ``owner`` is known alive, for scripts that keep liveness per topic (0: not kept)."""
        return 0

    async def leave(self, topic: str, member: str, *, owner: str) -> bool:
        reply = await self._script("leave", self._keys(topic), [self.retention, member, owner, int(Kind.LEAVE)])
        return _int(reply) == 1

    async def heartbeat(self, owner: str, *, ttl: float) -> None:
        redis = self._redis()
        with self._answering():
            await redis.set(f"{self.namespace}:owner:{owner}", b"1", px=max(1, math.ceil(ttl * 1000)))

    async def reap(self, topics: Collection[str]) -> None:
        prefix = f"{self.namespace}:owner:"
        for topic in topics:
            await self._script("reap", self._keys(topic), [self.retention, prefix, int(Kind.LOST)])


def xread_command(streams: Sequence[tuple[str, Position]], block: float | None) -> list[Arg]:
    """XREAD of the entries after each position, in these streams; blocking up to ``block`` seconds."""
    command: list[Arg] = ["XREAD", "COUNT", _READ_COUNT]
    if block is not None:
        command += ["BLOCK", max(1, math.ceil(block * 1000))]
    command.append("STREAMS")
    command += [key for key, _ in streams]
    command += [f"{position.seq}-0" for _, position in streams]
    return command


def found_entries(found: Reply, topics: Mapping[bytes, str]) -> list[Entry]:
    """The entries of an XREAD reply, each with its topic (``topics``: stream key -> topic)."""
    if found is None:
        return []
    entries: list[Entry] = []
    for stream in _list(found):
        key, items = _list(stream)
        topic = topics[_bytes(key)]
        for item in _list(items):
            identifier, fields = _list(item)
            values = [_bytes(value) for value in _list(fields)]
            pairs: dict[str | bytes, str | bytes] = dict(zip(values[::2], values[1::2], strict=True))
            entries.append(_entry(topic, identifier, pairs))
    return entries


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, str)):
        return int(value)
    raise BrokerUnavailable(f"unexpected reply from Redis: {value!r:.100}")


def _check_epochs(cursors: Mapping[str, Position], epochs: Sequence[object]) -> None:
    """BrokerUnavailable unless each topic's epoch, read right after its entries, is still its cursor's."""
    for (topic, cursor), epoch in zip(cursors.items(), epochs, strict=True):
        if epoch is None or _text(epoch) != cursor.epoch:
            raise BrokerUnavailable(f"Redis lost topic {topic!r}: its epoch is {epoch!r}, not {cursor.epoch!r}")


def _list(value: Reply) -> list[Reply]:
    if isinstance(value, list):
        return value
    raise BrokerUnavailable(f"unexpected reply from Redis: {value!r:.100}")


def _bytes(value: Reply) -> bytes:
    if isinstance(value, bytes):
        return value
    raise BrokerUnavailable(f"unexpected reply from Redis: {value!r:.100}")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(topic: str, identifier: object, fields: Mapping[str | bytes, str | bytes]) -> Entry:
    """An entry as the scripts wrote it: fields ``k`` (its Kind), ``d`` (its payload) and ``t`` (when
    it was appended; absent from entries of earlier versions)."""
    seq = int(_text(identifier).partition("-")[0])
    kind = Kind(int(fields[b"k"]))
    data = fields[b"d"]
    raw = data if isinstance(data, bytes) else data.encode()
    payload = raw if kind is Kind.BINARY else raw.decode()
    appended = fields.get(b"t")
    return Entry(topic, seq, kind, payload) if appended is None else Stamped(topic, seq, kind, payload, float(appended))
