"""Metrics through the OpenTelemetry API: connections, messages and fan-out (extra ``otel``).

Nothing is counted until the application calls ``enable()``, once, before it serves:

.. code-block:: python

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from simple_websocket import metrics

    provider = MeterProvider(metric_readers=[PrometheusMetricReader()])
    metrics.enable(provider)          # or enable() for OpenTelemetry's global provider

Connections made after ``enable()`` count (see ``INSTRUMENTS`` for every name, unit and
attribute); ``disable()`` stops the reports of all of them. Messages are counted into plain
numbers that observable instruments read when a reader collects, so that the message path
makes no OpenTelemetry call; connection and fan-out events, which are rare, go to ordinary
instruments. Attributes are of low cardinality only: no path, user, client or topic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _telemetry

if TYPE_CHECKING:
    from opentelemetry.metrics import (
        CallbackOptions,
        Counter,
        Histogram,
        Meter,
        MeterProvider,
        Observation,
        UpDownCounter,
    )

__all__ = ["INSTRUMENTS", "Instrument", "disable", "enable", "enabled"]


@dataclass(frozen=True)
class Instrument:
    """One metric: its OpenTelemetry name, kind, unit, attributes and the question it answers."""

    name: str
    kind: str
    unit: str
    attributes: tuple[str, ...]
    answers: str


_FRAME = "websocket.frame.type"  # text or binary
_SECONDS_LONG = (0.1, 1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
_SECONDS_SHORT = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)

INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(
        "websocket.server.active_connections",
        "updowncounter",
        "{connection}",
        (),
        "How many are connected now?",
    ),
    Instrument(
        "websocket.server.handshakes",
        "counter",
        "{handshake}",
        ("websocket.handshake.outcome",),
        "How do handshakes end: accepted, refused (by the application), origin_refused, timeout, client_left?",
    ),
    Instrument(
        "websocket.server.closes",
        "counter",
        "{close}",
        ("websocket.close.code", "websocket.close.by"),
        "Why do connections end, and who ended them (client or server)?",
    ),
    Instrument(
        "websocket.server.connection.duration",
        "histogram",
        "s",
        ("websocket.close.by",),
        "How long do connections last?",
    ),
    Instrument(
        "websocket.server.received.messages",
        "observable counter",
        "{message}",
        (_FRAME,),
        "How many messages come in?",
    ),
    Instrument(
        "websocket.server.received.size",
        "observable counter",
        "By",
        (_FRAME,),
        "How much comes in (frames' payloads; text as UTF-8)?",
    ),
    Instrument(
        "websocket.server.sent.messages",
        "observable counter",
        "{message}",
        (_FRAME,),
        "How many messages go out?",
    ),
    Instrument(
        "websocket.server.sent.size",
        "observable counter",
        "By",
        (_FRAME,),
        "How much goes out (frames' payloads; text as UTF-8)?",
    ),
    Instrument(
        "websocket.server.send.duration",
        "histogram",
        "s",
        (),
        "How long do sends wait that queue behind another sender (and every send not over ASGI)?",
    ),
    Instrument(
        "websocket.fanout.published",
        "observable counter",
        "{message}",
        (),
        "How many messages does this process publish?",
    ),
    Instrument(
        "websocket.fanout.delivered",
        "observable counter",
        "{event}",
        (),
        "How many events (messages and presence changes) does this process hand to its subscriptions?",
    ),
    Instrument(
        "websocket.fanout.lag",
        "histogram",
        "s",
        (),
        "How long from publish() to the hand-over to this process's subscriptions (one entry in 16)?",
    ),
    Instrument(
        "websocket.fanout.backlog",
        "observable gauge",
        "{event}",
        ("websocket.fanout.backlog.measure",),
        "Is anyone falling behind (the deepest backlog, and all backlogs together)?",
    ),
    Instrument(
        "websocket.fanout.slow_subscribers",
        "counter",
        "{subscription}",
        (),
        "How many subscriptions were ended as too slow (SlowSubscriber, then close 1013)?",
    ),
    Instrument(
        "websocket.fanout.gaps",
        "counter",
        "{gap}",
        ("websocket.fanout.gap.cause",),
        "How often did subscribers miss events, and why (retention, overflow, reset)?",
    ),
    Instrument(
        "websocket.fanout.broker.reachable",
        "observable gauge",
        "1",
        (),
        "Is the broker healthy (1 when this process reached it last time it tried, else 0)?",
    ),
    Instrument(
        "websocket.fanout.broker.reconnects",
        "counter",
        "{reconnect}",
        (),
        "How often did the broker come back after an outage?",
    ),
    Instrument(
        "websocket.fanout.resumes",
        "counter",
        "{resume}",
        ("websocket.fanout.resume.outcome",),
        "Do clients that come back get what they missed (recovered or not_recovered)?",
    ),
)


def enable(meter_provider: MeterProvider | None = None) -> None:
    """Record metrics into ``meter_provider`` (OpenTelemetry's global one if None) from now on.

    Needs the ``otel`` extra (opentelemetry-api); the application installs the SDK and a reader.
    Connections made from now on are counted, from zero; calling it again moves the reports to
    the new provider and counts from zero again.
    """
    from opentelemetry import metrics as otel

    from . import __version__
    from ._metered import metered_class

    provider = meter_provider if meter_provider is not None else otel.get_meter_provider()
    meter = provider.get_meter("simple_websocket", __version__)
    recorder = _OTelRecorder(meter)
    text, binary = {_FRAME: "text"}, {_FRAME: "binary"}

    def observe(*pairs: tuple[float, dict[str, str]]) -> Iterable[Observation]:
        if _telemetry.recorder is not recorder:  # disable(), or enable() again: this provider reports no more
            return []
        return [otel.Observation(value, attributes) for value, attributes in pairs]

    def by_kind(text_count: str, binary_count: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        """A callback reporting two of the message counts (Tally's fields), one per frame kind."""

        def callback(options: CallbackOptions) -> Iterable[Observation]:
            tally = _telemetry.totals()
            return observe((getattr(tally, text_count), text), (getattr(tally, binary_count), binary))

        return callback

    def published(options: CallbackOptions) -> Iterable[Observation]:
        return observe((_telemetry.FANOUT.published, {}))

    def delivered(options: CallbackOptions) -> Iterable[Observation]:
        return observe((_telemetry.FANOUT.delivered, {}))

    def backlog(options: CallbackOptions) -> Iterable[Observation]:
        deepest, total = _telemetry.backlogs()
        return observe(
            (deepest, {"websocket.fanout.backlog.measure": "max"}), (total, {"websocket.fanout.backlog.measure": "sum"})
        )

    def reachable(options: CallbackOptions) -> Iterable[Observation]:
        states = _telemetry.reachability()
        return observe((1.0 if all(states) else 0.0, {})) if states else []

    callbacks = {
        "websocket.server.received.messages": by_kind("text_in", "binary_in"),
        "websocket.server.received.size": by_kind("text_in_bytes", "binary_in_bytes"),
        "websocket.server.sent.messages": by_kind("text_out", "binary_out"),
        "websocket.server.sent.size": by_kind("text_out_bytes", "binary_out_bytes"),
        "websocket.fanout.published": published,
        "websocket.fanout.delivered": delivered,
        "websocket.fanout.backlog": backlog,
        "websocket.fanout.broker.reachable": reachable,
    }
    for spec in INSTRUMENTS:
        if spec.kind == "observable counter":
            meter.create_observable_counter(spec.name, [callbacks[spec.name]], spec.unit, spec.answers)
        elif spec.kind == "observable gauge":
            meter.create_observable_gauge(spec.name, [callbacks[spec.name]], spec.unit, spec.answers)
    _telemetry.reset()
    _telemetry.recorder = recorder
    _telemetry.metered = metered_class


def disable() -> None:
    """Record nothing from now on; connections made from now on are not metered."""
    _telemetry.recorder = None
    _telemetry.metered = None


def enabled() -> bool:
    """Whether ``enable()`` is in effect."""
    return _telemetry.recorder is not None


class _OTelRecorder:
    """``_telemetry.Recorder`` over OpenTelemetry instruments."""

    def __init__(self, meter: Meter) -> None:
        spec = {each.name: each for each in INSTRUMENTS}

        def counter(name: str) -> Counter:
            return meter.create_counter(name, spec[name].unit, spec[name].answers)

        def histogram(name: str, bounds: Sequence[float]) -> Histogram:
            return meter.create_histogram(
                name, spec[name].unit, spec[name].answers, explicit_bucket_boundaries_advisory=bounds
            )

        name = "websocket.server.active_connections"
        self._active: UpDownCounter = meter.create_up_down_counter(name, spec[name].unit, spec[name].answers)
        self._handshakes = counter("websocket.server.handshakes")
        self._closes = counter("websocket.server.closes")
        self._duration = histogram("websocket.server.connection.duration", _SECONDS_LONG)
        self._send_duration = histogram("websocket.server.send.duration", _SECONDS_SHORT)
        self._lag = histogram("websocket.fanout.lag", _SECONDS_SHORT)
        self._fanout = {
            "slow_subscribers": (counter("websocket.fanout.slow_subscribers"), ""),
            "gaps": (counter("websocket.fanout.gaps"), "websocket.fanout.gap.cause"),
            "broker.reconnects": (counter("websocket.fanout.broker.reconnects"), ""),
            "resumes": (counter("websocket.fanout.resumes"), "websocket.fanout.resume.outcome"),
        }

    def handshake(self, outcome: str) -> None:
        self._handshakes.add(1, {"websocket.handshake.outcome": outcome})

    def opened(self) -> None:
        self._active.add(1)

    def closed(self, code: int, by_peer: bool, duration: float) -> None:
        by = "client" if by_peer else "server"
        self._active.add(-1)
        self._closes.add(1, {"websocket.close.code": code, "websocket.close.by": by})
        self._duration.record(duration, {"websocket.close.by": by})

    def send_waited(self, seconds: float) -> None:
        self._send_duration.record(seconds)

    def fanout(self, name: str, amount: int = 1, reason: str = "") -> None:
        counter, attribute = self._fanout[name]
        counter.add(amount, {attribute: reason} if attribute else None)

    def lag(self, seconds: float) -> None:
        self._lag.record(seconds)
