"""``python -m examples.chat [port]``: serve the chat on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import os
import sys

import uvicorn

from .app import app

port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8000"))
print(f"chat demo on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
print("stopped", flush=True)
