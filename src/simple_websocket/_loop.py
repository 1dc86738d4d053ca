"""Which event loop runs the calling task, for the few places that take a faster way on asyncio."""

from __future__ import annotations

import asyncio

__all__ = ["on_asyncio"]


def on_asyncio() -> bool:
    """Whether an asyncio event loop (uvloop's included) runs the calling code; False under trio."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
