"""The smallest useful app: a page at / that echoes what you type over a WebSocket.

Run it with ``python -m examples.echo`` and open http://127.0.0.1:8000.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from simple_websocket import ASGIReceive, ConnectionClosed, Scope, WebSocketASGI

Send = Callable[[dict[str, object]], Awaitable[None]]

PAGE = b"""<!doctype html>
<meta charset="utf-8"><title>simple_websocket echo</title>
<input id="text" autofocus placeholder="type and press Enter"> <span id="state">connecting</span>
<ul id="log"></ul>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`, ["echo"]);
const log = (line) => document.getElementById("log").insertAdjacentHTML("beforeend", "<li></li>") ||
  (document.getElementById("log").lastChild.textContent = line);
ws.onopen = () => document.getElementById("state").textContent = `connected (${ws.protocol})`;
ws.onclose = (e) => document.getElementById("state").textContent = `closed ${e.code}`;
ws.onmessage = (e) => log(`echo: ${e.data}`);
document.getElementById("text").onkeydown = (e) => {
  if (e.key === "Enter") { ws.send(e.target.value); e.target.value = ""; }
};
</script>
"""


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    """Serve the page over HTTP and echo over WebSocket."""
    if scope["type"] == "http":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8")]}
        )
        await send({"type": "http.response.body", "body": PAGE})
    elif scope["type"] == "websocket":
        ws = await WebSocketASGI.accept(scope, receive, send, subprotocols=["echo"])
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass  # the browser went away without a normal close
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


if __name__ == "__main__":
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    print(f"echo demo on http://127.0.0.1:{port} (Ctrl-C stops it)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
