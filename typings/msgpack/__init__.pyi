from collections.abc import Callable

__all__ = ["ExtType", "Packer", "Timestamp", "packb", "unpackb"]

class ExtType:
    code: int
    data: bytes
    def __new__(cls, code: int, data: bytes) -> ExtType: ...

class Timestamp:
    seconds: int
    nanoseconds: int
    def __init__(self, seconds: int, nanoseconds: int = 0) -> None: ...

class Packer:
    def __init__(
        self,
        *,
        default: Callable[[object], object] | None = None,
        use_bin_type: bool = True,
        use_single_float: bool = False,
        strict_types: bool = False,
        datetime: bool = False,
        unicode_errors: str | None = None,
    ) -> None: ...
    def pack(self, obj: object, /) -> bytes: ...

def packb(
    o: object,
    *,
    default: Callable[[object], object] | None = None,
    use_bin_type: bool = True,
    use_single_float: bool = False,
    strict_types: bool = False,
    datetime: bool = False,
    unicode_errors: str | None = None,
) -> bytes: ...
def unpackb(
    packed: bytes,
    *,
    use_list: bool = True,
    raw: bool = False,
    timestamp: int = 0,
    strict_map_key: bool = True,
    unicode_errors: str | None = None,
    ext_hook: Callable[[int, bytes], object] = ...,
    max_str_len: int = -1,
    max_bin_len: int = -1,
    max_array_len: int = -1,
    max_map_len: int = -1,
    max_ext_len: int = -1,
) -> object: ...
