"""RedisBackend: topics as capped Redis Streams, presence as hashes, shared by every process."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio
from typing_extensions import Self

from ..exceptions import BrokerUnavailable, InvalidArgument
from ._backend import Entry, Head, Kind, Stamped
from ._position import Position, trusted
from ._resp import Reply, RespAddress, RespConnection, RespError

if TYPE_CHECKING:
    import coredis

__all__ = ["RedisBackend"]

# Every script works on one topic's keys: KEYS[1] its stream, KEYS[2] its entry counter, KEYS[3] its
# members (member -> owner), KEYS[4] its epoch, KEYS[5] its members' sessions (member -> session
# digest). Entries are appended with an explicit id "<seq>-0", seq coming from the counter in the
# same atomic step: ids are 1, 2, 3... so a reader tells a gap from the numbers alone. The epoch is
# set when the topic's data is created (by its first entry or the first look at it): a Redis that
# lost its data gets a new epoch, which readers notice. Each entry has fields k (its Kind), d (its
# payload) and t (Redis's clock when it was appended, "<seconds>.<microseconds>": the fan-out's lag).
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

# KEYS[6]: the publish's key, remembered for the dedup window so that a retry appends nothing.
_APPEND = (
    _TOPIC
    + """
local done = redis.call('GET', KEYS[6])
if done then return {tonumber(done), redis.call('GET', KEYS[4])} end
local seq = add(ARGV[1], ARGV[2], ARGV[3])
redis.call('SET', KEYS[6], seq, 'PX', ARGV[4])
return {seq, redis.call('GET', KEYS[4])}
"""
)

# Entries after ARGV[2] up to ARGV[3] (stream ids), at most ARGV[4], if the epoch is still ARGV[1].
_REPLAY = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return false end
return redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
"""

_HEAD = (
    _TOPIC
    + """
epoch()
return {redis.call('GET', KEYS[2]) or '0', redis.call('HKEYS', KEYS[3]), redis.call('GET', KEYS[4])}
"""
)

_JOIN = (
    _TOPIC
    + """
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
)

_LEAVE = (
    _TOPIC
    + """
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
add(ARGV[1], ARGV[4], ARGV[2])
return 1
"""
)

# Owners' liveness keys are named from the hash's values, so this backend needs one Redis server
# (not a cluster): the script touches keys it cannot declare in advance.
_REAP = (
    _TOPIC
    + """
local fields = redis.call('HGETALL', KEYS[3])
local reaped = 0
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[2] .. fields[i + 1]) == 0 then
    redis.call('HDEL', KEYS[3], fields[i])
    redis.call('HDEL', KEYS[5], fields[i])
    add(ARGV[1], ARGV[3], fields[i])
    reaped = reaped + 1
  end
end
return reaped
"""
)

_APPEND_SHA = hashlib.sha1(_APPEND.encode()).hexdigest()

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
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        retention: int = 1000,
        namespace: str = "simple_websocket",
        timeout: float = 5.0,
        dedup_window: float = 60.0,
    ) -> None:
        if retention < 1:
            raise InvalidArgument(f"retention must be at least 1, got {retention}")
        if timeout <= 0 or dedup_window <= 0:
            raise InvalidArgument("timeout and dedup_window must be positive")
        self.url = url
        self.retention = retention
        self.namespace = namespace
        self.timeout = timeout
        self.dedup_window = dedup_window
        self._client: coredis.Redis[bytes] | None = None
        self._scripts: dict[str, coredis.commands.Script[bytes]] = {}
        # Appends and reads on plain connections of their own (the reader's blocks in XREAD).
        self._address = RespAddress.parse(url)
        self._appender: RespConnection | None = None
        self._reader: RespConnection | None = None

    # -- connection ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            import coredis
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("RedisBackend needs coredis: pip install 'simple-websocket-asgi[redis]'") from error
        from coredis.retry import NoRetryPolicy

        # No retries inside coredis: a lost connection must reach the Broker, which retries with
        # backoff, deduplicates publishes and, after an outage, checks whether Redis lost its data.
        client = coredis.Redis.from_url(
            self.url,
            decode_responses=False,
            connect_timeout=self.timeout,
            stream_timeout=None,
            retry_policy=NoRetryPolicy(),
        )
        await client.__aenter__()
        self._client = client
        self._scripts = {
            name: client.register_script(source)
            for name, source in (
                ("append", _APPEND),
                ("head", _HEAD),
                ("join", _JOIN),
                ("leave", _LEAVE),
                ("reap", _REAP),
                ("replay", _REPLAY),
            )
        }
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        client, self._client = self._client, None
        for connection in (self._appender, self._reader):
            if connection is not None:
                await connection.aclose()
        self._appender = self._reader = None
        if client is not None:
            await client.__aexit__(None, None, None)

    async def _plain(self, address: RespAddress, *, reader: bool) -> RespConnection:
        """The reader's or the appenders' connection, opened if it is not open (inside ``_answering``)."""
        self._redis()  # connected at all
        current = self._reader if reader else self._appender
        if current is not None and not current.closed:
            return current
        try:
            opened = await RespConnection.open(address)
        except RespError as error:
            raise BrokerUnavailable(f"Redis refused the connection: {error}") from error
        current = self._reader if reader else self._appender
        if current is not None and not current.closed:  # another task opened one meanwhile
            await opened.aclose()
            return current
        if reader:
            self._reader = opened
        else:
            self._appender = opened
        return opened

    def _redis(self) -> coredis.Redis[bytes]:
        if self._client is None:
            raise BrokerUnavailable("the RedisBackend is not connected: enter its Broker first")
        return self._client

    def _keys(self, topic: str) -> list[str]:
        base = f"{self.namespace}:t:{topic}"
        return [f"{base}:stream", f"{base}:seq", f"{base}:members", f"{base}:epoch", f"{base}:sessions"]

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

    async def _script(self, name: str, keys: list[str], args: list[str | bytes | int]) -> object:
        self._redis()
        with self._answering():
            return await self._scripts[name](keys, args)

    # -- the Backend protocol --------------------------------------------------------------

    async def append(self, topic: str, kind: Kind, payload: str | bytes, *, key: str) -> Position:
        dedup = f"{self.namespace}:k:{key}"
        window = math.ceil(self.dedup_window * 1000)
        keys, args = [*self._keys(topic), dedup], [self.retention, int(kind), payload, window]
        if self._address is None:
            reply: object = await self._script("append", keys, args)
        else:
            with self._answering():
                appender = await self._plain(self._address, reader=False)
                reply = await appender.call("EVALSHA", _APPEND_SHA, len(keys), *keys, *args)
                if isinstance(reply, RespError) and str(reply).startswith("NOSCRIPT"):
                    reply = await appender.call("EVAL", _APPEND, len(keys), *keys, *args)
            if isinstance(reply, RespError):
                raise BrokerUnavailable(f"Redis refused the append: {reply}")
        if not isinstance(reply, list) or len(reply) != 2:
            raise BrokerUnavailable(f"unexpected reply from Redis: {reply!r:.100}")
        return trusted(_int(reply[0]), _text(reply[1]))

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        if self._address is not None:
            return await self._read_plain(self._address, cursors, timeout)
        redis = self._redis()
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
        xread: list[str | int] = ["XREAD", "COUNT", _READ_COUNT, "BLOCK", max(1, math.ceil(timeout * 1000)), "STREAMS"]
        xread += [key[0] for key in keys]
        xread += [f"{cursors[topic].seq}-0" for topic in names]
        with self._answering(wait=timeout):
            reader = await self._plain(address, reader=True)
            found, epochs = await reader.pipeline([xread, ["MGET", *(key[3] for key in keys)]])
        if not isinstance(epochs, list) or len(epochs) != len(names) or isinstance(found, RespError):
            raise BrokerUnavailable(f"unexpected reply from Redis: {found!r:.100} {epochs!r:.100}")
        _check_epochs(cursors, epochs)
        if found is None:
            return ()
        topics = {key[0].encode(): topic for topic, key in zip(names, keys, strict=True)}
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

    async def head(self, topic: str) -> Head:
        reply = await self._script("head", self._keys(topic), [])
        if not isinstance(reply, list) or len(reply) != 3 or not isinstance(reply[1], list):
            raise BrokerUnavailable(f"unexpected reply from Redis: {reply!r:.100}")
        return Head(_int(reply[0]), frozenset(_text(member) for member in reply[1]), _text(reply[2]))

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
        args: list[str | bytes | int] = [self.retention, member, owner, int(Kind.JOIN), session or "", int(take)]
        return _int(await self._script("join", self._keys(topic), args)) == 1

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
