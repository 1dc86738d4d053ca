"""The public surface: __all__ lists exactly what the package means to export."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import simple_websocket

ROOT = Path(__file__).resolve().parent.parent


PUBLIC_MODULES = [
    "simple_websocket",
    "simple_websocket.asyncapi",
    "simple_websocket.codecs",
    "simple_websocket.codecs.json",
    "simple_websocket.codecs.msgpack",
    "simple_websocket.codecs.msgspec",
    "simple_websocket.codecs.pydantic",
    "simple_websocket.exceptions",
    "simple_websocket.fanout",
    "simple_websocket.metrics",
    "simple_websocket.testing",
    "simple_websocket.typing",
]
"""The modules documented in the API reference (docs/api/), one page each."""


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_all_names_exist_and_are_sorted(module: str) -> None:
    namespace = importlib.import_module(module)
    names = namespace.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(namespace, name), name


def test_all_covers_every_public_name() -> None:
    public = {name for name in vars(simple_websocket) if not name.startswith("_")}
    submodules = {"exceptions", "typing", "testing", "codecs", "fanout", "asyncapi", "metrics", "annotations"}
    assert public - submodules == set(simple_websocket.__all__)


def test_simple_websocket_compatible_names() -> None:
    from simple_websocket import ConnectionClosed, WebSocketASGI

    assert callable(WebSocketASGI.accept)
    assert issubclass(ConnectionClosed, Exception)


@pytest.mark.parametrize("module", ["simple_websocket.codecs", "simple_websocket.fanout"])
def test_lazy_modules_refuse_unknown_names(module: str) -> None:
    namespace = importlib.import_module(module)
    with pytest.raises(AttributeError, match=f"module '{module}' has no attribute 'Nothing'"):
        namespace.Nothing  # noqa: B018  # the attribute access is the test


def test_every_public_module_has_a_reference_page() -> None:
    pages = {path.stem for path in (ROOT / "docs" / "api").glob("*.md")}
    assert pages == {module.removeprefix("simple_websocket.") for module in PUBLIC_MODULES}
