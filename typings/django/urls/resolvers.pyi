from collections.abc import Callable

class URLPattern:
    callback: Callable[..., object]
    default_args: dict[str, object]
    name: str | None
