"""Codec costs, side by side in one run, reported as ratios.

1. JSONCodec encode+decode against the standard library's json, for a ~100 B chat message
   and a ~10 KB nested document.
2. CodecSocket (``send(obj)`` + ``receive()``) against calling orjson/msgpack by hand around
   ``ws.send``/``ws.receive``, in-process over a scripted ASGI receive/send pair.
3. The typed codecs (MsgspecJSONCodec, MsgspecMsgpackCodec, PydanticJSONCodec, a MessageProtocol)
   echoing a ~100 B chat message of a tagged union (bench/typed_messages.py) into its class and
   back, against the same library called by hand and against today's path: JSONCodec with
   pydantic's ``TypeAdapter.validate_python`` as its converter.

    python -m bench.codecs [--rounds 7]

One CodecSocket loop or its by-hand twin for N messages, for counting it:

    ../shared/tools/icount -- .venv/bin/python -m bench.codecs --only adapter-json --messages {n}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from functools import partial

import msgpack
import msgspec
import orjson
import pydantic

from simple_websocket import ConnectionClosed, WebSocketASGI
from simple_websocket.codecs import (
    CodecSocket,
    JSONCodec,
    MessageProtocol,
    MsgpackCodec,
    MsgspecJSONCodec,
    MsgspecMsgpackCodec,
    PydanticJSONCodec,
)

from .echo_inprocess import script
from .typed_messages import BINARY_FRAME, FRAME, Chat, PChat, PChatForm

CHAT: dict[str, object] = {"type": "message", "nick": "ann", "text": "see you at the station at 9?", "ts": 1764000000}
DOCUMENT: dict[str, object] = {
    "users": [
        {
            "id": i,
            "name": f"user{i}",
            "tags": ["a", "b", "c"],
            "score": i * 1.5,
            "active": i % 2 == 0,
            "address": {"city": "Lyon", "zip": f"{69000 + i}"},
        }
        for i in range(70)
    ]
}


def best_ns(call: Callable[[], object], repeat: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter_ns() - started) / repeat)
    return best


def stdlib_round_trip(value: object) -> object:
    return json.loads(json.dumps(value))


def codec_round_trip(codec: JSONCodec[object], value: object) -> object:
    return codec.decode(codec.encode(value))


def codec_vs_stdlib(rounds: int) -> None:
    codec = JSONCodec()
    print(f"{'JSON encode+decode':<28} {'stdlib ns':>10} {'codec ns':>10} {'speed-up':>9}")
    for name, value in (("chat message", CHAT), ("nested document", DOCUMENT)):
        size = len(json.dumps(value))
        repeat = 20_000 if size < 1000 else 1_000
        stdlib = best_ns(partial(stdlib_round_trip, value), repeat, rounds)
        ours = best_ns(partial(codec_round_trip, codec, value), repeat, rounds)
        print(f"{f'{name} ({size} B)':<28} {stdlib:>10.0f} {ours:>10.0f} {stdlib / ours:>8.1f}x")


async def by_hand_json(ws: WebSocketASGI) -> None:
    while True:
        obj = orjson.loads(await ws.receive())
        await ws.send(orjson.dumps(obj).decode())


async def by_hand_msgpack(ws: WebSocketASGI) -> None:
    while True:
        data = await ws.receive()
        assert isinstance(data, bytes)
        await ws.send(msgpack.packb(msgpack.unpackb(data)))


async def adapter_json(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, JSONCodec())
    while True:
        await sock.send(await sock.receive())


async def adapter_msgpack(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, MsgpackCodec())
    while True:
        await sock.send(await sock.receive())


async def per_message(loop: Callable[[WebSocketASGI], Awaitable[None]], frame: str | bytes, count: int) -> float:
    receive, send = script(count, frame)
    ws = await WebSocketASGI.accept({"type": "websocket"}, receive, send)
    started = time.perf_counter_ns()
    try:
        await loop(ws)
    except ConnectionClosed:
        pass
    return (time.perf_counter_ns() - started) / count


async def adapter_vs_by_hand(rounds: int, count: int = 50_000) -> None:
    print(f"\n{'echo of CHAT, per message':<28} {'by hand ns':>10} {'adapter ns':>10} {'ratio':>9}")
    pairs = (
        ("JSON (text frames)", by_hand_json, adapter_json, orjson.dumps(CHAT).decode()),
        ("msgpack (binary frames)", by_hand_msgpack, adapter_msgpack, msgpack.packb(CHAT)),
    )
    for name, by_hand, adapter, frame in pairs:
        best_hand = best_adapter = float("inf")
        for _ in range(rounds):
            best_hand = min(best_hand, await per_message(by_hand, frame, count))
            best_adapter = min(best_adapter, await per_message(adapter, frame, count))
        print(f"{name:<28} {best_hand:>10.0f} {best_adapter:>10.0f} {best_adapter / best_hand:>8.2f}x")


# The typed echoes: each message is decoded and checked into its class of the union, then encoded
# back. By hand, the library's own decoder/encoder around ws.receive/ws.send, made once.


async def by_hand_msgspec(ws: WebSocketASGI) -> None:
    decode = msgspec.json.Decoder(Chat).decode
    encode = msgspec.json.Encoder().encode
    while True:
        await ws.send(encode(decode(await ws.receive())).decode())


async def msgspec_json(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, MsgspecJSONCodec(Chat))
    while True:
        await sock.send(await sock.receive())


async def by_hand_msgspec_msgpack(ws: WebSocketASGI) -> None:
    decode = msgspec.msgpack.Decoder(Chat).decode
    encode = msgspec.msgpack.Encoder().encode
    while True:
        data = await ws.receive()
        assert isinstance(data, bytes)
        await ws.send(encode(decode(data)))


async def msgspec_msgpack(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, MsgspecMsgpackCodec(Chat))
    while True:
        await sock.send(await sock.receive())


async def by_hand_pydantic(ws: WebSocketASGI) -> None:
    adapter: pydantic.TypeAdapter[PChat] = pydantic.TypeAdapter(PChatForm)
    validate, dump = adapter.validate_json, adapter.dump_json
    while True:
        await ws.send(dump(validate(await ws.receive())).decode())


async def pydantic_json(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, PydanticJSONCodec(PChatForm))
    while True:
        await sock.send(await sock.receive())


def model_dump(obj: object) -> object:
    """orjson's ``default`` for pydantic models, as a user of JSONCodec writes it."""
    if isinstance(obj, pydantic.BaseModel):
        return obj.model_dump()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


async def converter_json(ws: WebSocketASGI) -> None:
    # Today's path: orjson.loads, then the converter validates the dict. orjson cannot write a
    # model, so a user hands JSONCodec a ``default`` that dumps it to a dict (model_dump above),
    # which orjson then writes: the way orjson's docs say to serialise types it does not know.
    # With a converter and a default, JSONCodec has no raw functions: decode()/encode() each call.
    adapter: pydantic.TypeAdapter[PChat] = pydantic.TypeAdapter(PChatForm)
    sock = CodecSocket(ws, JSONCodec(adapter.validate_python, default=model_dump))
    while True:
        await sock.send(await sock.receive())


async def protocol_msgspec(ws: WebSocketASGI) -> None:
    sock = CodecSocket(ws, MessageProtocol(MsgspecJSONCodec(Chat), MsgspecJSONCodec(Chat)))
    while True:
        await sock.send(await sock.receive())


async def typed_vs_by_hand(rounds: int, count: int = 50_000) -> None:
    """Each typed codec against its library by hand and against converter-json (rounds interleaved)."""
    print(
        f"\n{f'typed echo of a {len(FRAME)} B message':<32} {'by hand ns':>10} {'ours ns':>9}"
        f" {'ours/hand':>9} {'ours/conv':>9}"
    )
    rows = (
        ("msgspec JSON", "by-hand-msgspec", "msgspec-json"),
        ("msgspec msgpack", "by-hand-msgspec-msgpack", "msgspec-msgpack"),
        ("pydantic JSON", "by-hand-pydantic", "pydantic-json"),
        ("MessageProtocol(msgspec JSON)", "by-hand-msgspec", "protocol-msgspec"),
        ("JSONCodec(validate_python)", "by-hand-pydantic", "converter-json"),
    )
    names = sorted({name for _, hand, ours in rows for name in (hand, ours)})
    best = dict.fromkeys(names, float("inf"))
    for _ in range(rounds):
        for name in names:
            loop, frame = LOOPS[name]
            best[name] = min(best[name], await per_message(loop, frame, count))
    converter = best["converter-json"]
    for label, hand, ours in rows:
        print(
            f"{label:<32} {best[hand]:>10.0f} {best[ours]:>9.0f} {best[ours] / best[hand]:>8.2f}x"
            f" {best[ours] / converter:>8.2f}x"
        )


LOOPS: dict[str, tuple[Callable[[WebSocketASGI], Awaitable[None]], str | bytes]] = {
    "by-hand-json": (by_hand_json, orjson.dumps(CHAT).decode()),
    "adapter-json": (adapter_json, orjson.dumps(CHAT).decode()),
    "by-hand-msgpack": (by_hand_msgpack, msgpack.packb(CHAT)),
    "adapter-msgpack": (adapter_msgpack, msgpack.packb(CHAT)),
    "by-hand-msgspec": (by_hand_msgspec, FRAME),
    "msgspec-json": (msgspec_json, FRAME),
    "by-hand-msgspec-msgpack": (by_hand_msgspec_msgpack, BINARY_FRAME),
    "msgspec-msgpack": (msgspec_msgpack, BINARY_FRAME),
    "by-hand-pydantic": (by_hand_pydantic, FRAME),
    "pydantic-json": (pydantic_json, FRAME),
    "converter-json": (converter_json, FRAME),
    "protocol-msgspec": (protocol_msgspec, FRAME),
}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=sorted(LOOPS), help="run one echo loop once, for icount")
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    if args.only:
        loop, frame = LOOPS[args.only]
        asyncio.run(per_message(loop, frame, args.messages))
    else:
        codec_vs_stdlib(args.rounds)
        asyncio.run(adapter_vs_by_hand(args.rounds))
        asyncio.run(typed_vs_by_hand(args.rounds))
