"""The part every codec family shares: an optional converter from the decoded object to a T."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic

from typing_extensions import TypeVar

from ..exceptions import DecodeError
from ..typing import Data

__all__ = ["Converting", "RawCodec", "RawFunctions"]

T = TypeVar("T", default=object)
T_co = TypeVar("T_co", covariant=True, default=object)


@dataclass(frozen=True, slots=True)
class RawFunctions(Generic[T_co]):
    """A codec's C functions, for a message path that calls them instead of decode/encode.

    ``loads(data)`` returns what ``decode(data)`` returns whenever it does not raise;
    ``dumps(obj)`` returns ``encode(obj)`` as bytes (``.decode()`` gives the str when ``text``).
    When either raises, the caller calls ``decode``/``encode`` again for the codec's own error.
    None where the codec has no such function for its settings.
    """

    loads: Callable[[Data], T_co] | None
    dumps: Callable[[object], bytes] | None
    text: bool


class RawCodec(Generic[T_co]):
    """A codec that can hand its C functions to CodecSocket's message path (``codecs/_asgi.py``)."""

    __slots__ = ()

    def _raw_functions(self) -> RawFunctions[T_co]:
        """The C functions that do this codec's work with its settings (see RawFunctions)."""
        return RawFunctions(None, None, False)


class Converting(RawCodec[T]):
    """Keeps ``convert`` and applies it; ``T`` is ``object`` when no converter is given.

    A converter is any ``Callable[[object], T]`` that returns a T or raises ValueError or
    TypeError; its failure becomes a DecodeError that keeps the frame.
    """

    __slots__ = ("_convert",)

    #: The format's name, as DecodeError messages show it.
    format_name: ClassVar[str] = "data"

    def __init__(self, convert: Callable[[object], T] | None) -> None:
        self._convert = convert

    def _converted(self, obj: object, data: Data) -> T:
        if self._convert is None:
            return obj  # type: ignore[return-value]  # T is object when there is no converter
        try:
            return self._convert(obj)
        except (ValueError, TypeError) as error:
            raise DecodeError(f"{self.format_name} does not convert: {error}", data) from error
