"""Debian's Chromium for the browser tests, and the flags it runs with here (no download, ever)."""

from __future__ import annotations

import shutil

#: The browser Playwright drives (``executable_path``); None when it is not installed.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Headless as root, and nothing that reaches out beyond 127.0.0.1 on its own.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
