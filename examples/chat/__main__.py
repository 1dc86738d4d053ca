"""``python -m examples.chat [port]``: serve the chat on 127.0.0.1 until Ctrl-C.

The port comes from the argument, else the PORT environment variable, else 8000.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from .app import app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.chat", description="Serve the chat demo on 127.0.0.1.")
    parser.add_argument("port", nargs="?", type=int, default=int(os.environ.get("PORT", "8000")),
                        help="TCP port (default: $PORT or 8000)")
    port: int = parser.parse_args().port
    print(f"chat demo on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    print("stopped", flush=True)


main()
