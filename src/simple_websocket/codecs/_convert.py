"""The part every codec family shares: an optional converter from the decoded object to a T."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic

from typing_extensions import TypeVar

from ..exceptions import DecodeError
from ..typing import Data

__all__ = ["Converting"]

T = TypeVar("T", default=object)


class Converting(Generic[T]):
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
