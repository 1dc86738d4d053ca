"""``python -m examples.chat``: prints its URL, serves the page, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from ..servers import ROOT, free_port, stop

pytestmark = pytest.mark.server


def test_demo_command_serves_and_stops_on_ctrl_c() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "examples.chat", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"chat demo on http://127.0.0.1:{port} (Ctrl-C stops it)"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert b"simple_websocket chat" in response.read()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "stopped" in out
    finally:
        if process.poll() is None:
            stop(process)
