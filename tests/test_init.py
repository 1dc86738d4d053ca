"""The public surface: __all__ lists exactly what the package means to export."""

from __future__ import annotations

import importlib

import pytest

import simple_websocket


@pytest.mark.parametrize("module", ["simple_websocket", "simple_websocket.exceptions", "simple_websocket.typing",
                                    "simple_websocket.testing", "simple_websocket.fanout"])
def test_all_names_exist_and_are_sorted(module: str) -> None:
    namespace = importlib.import_module(module)
    names = namespace.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(namespace, name), name


def test_all_covers_every_public_name() -> None:
    public = {name for name in vars(simple_websocket) if not name.startswith("_")}
    submodules = {"exceptions", "typing", "testing", "codecs", "fanout", "annotations"}
    assert public - submodules == set(simple_websocket.__all__)


def test_simple_websocket_compatible_names() -> None:
    from simple_websocket import ConnectionClosed, WebSocketASGI

    assert callable(WebSocketASGI.accept)
    assert issubclass(ConnectionClosed, Exception)
