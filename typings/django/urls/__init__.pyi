from collections.abc import Callable

from django.urls.resolvers import URLPattern as URLPattern

# ``path`` is functools.partial(_path, Pattern=RoutePattern); only the view form is stubbed
# (a list or tuple from include() gives a URLResolver instead).
def path(
    route: str, view: Callable[..., object], kwargs: dict[str, object] | None = None, name: str | None = None
) -> URLPattern: ...
