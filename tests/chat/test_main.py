"""``python -m examples.chat``: prints its URL, serves the chat, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ..support.servers import ROOT, free_port, stop

pytestmark = pytest.mark.server


def wait_for_page(port: int, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                page: bytes = response.read()
                return page
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("port_from", ["argument", "environment"])
def test_demo_command_serves_and_stops_on_ctrl_c_with_people_connected(port_from: str) -> None:
    port = free_port()
    argument = [str(port)] if port_from == "argument" else []
    environment = {**os.environ, "PORT": str(port) if port_from == "environment" else "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.chat", *argument],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"chat demo on http://127.0.0.1:{port} (Ctrl-C stops it)"
        assert b"simple_websocket chat" in wait_for_page(port, time.monotonic() + 20)
        with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5) as client:
            client.send(orjson.dumps({"type": "join", "nick": "ann"}).decode())
            assert orjson.loads(client.recv(timeout=5))["type"] == "welcome"
            os.kill(process.pid, signal.SIGINT)
            with pytest.raises(ConnectionClosed) as closed:
                read_until_closed(client)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012  # service restart
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert out.strip() == "stopped"
    finally:
        if process.poll() is None:
            stop(process)


def read_until_closed(client: ClientConnection) -> None:
    """Read what is left (the join event), then the close raises ConnectionClosed."""
    for _ in range(10):
        client.recv(timeout=10)
