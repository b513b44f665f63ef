"""What an idle WebSocket costs uvicorn itself, before any application: a bare ASGI application
that accepts each socket, answers one message and waits, served by each of uvicorn's WebSocket
implementations; N clients connect, and the server's resident memory before and after, per
socket, is reported. The floor under Kilas's KiB per idle subscriber (bench/fanout.py).

    python bench/ws_floor.py --sockets 1000

The clients run in this process; the server in a child process of its own.
"""

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import websockets

SERVER = """
import sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].replace("lifespan.", "")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": '{"type":"connection_ack"}'})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", ws=sys.argv[2],
            ws_per_message_deflate=False, ws_ping_interval=None if sys.argv[3] == "off" else 20.0)
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def connect(port: int) -> websockets.ClientConnection:
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
    )


async def floor(sockets: int, implementation: str, pings: str, port: int) -> float:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), implementation, pings],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                await (await connect(port)).close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        before = rss_kib(server.pid)
        clients = []
        for _ in range(sockets):
            ws = await connect(port)
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            clients.append(ws)
        await asyncio.sleep(1.0)
        after = rss_kib(server.pid)
        await asyncio.gather(*(ws.close() for ws in clients))
        return (after - before) / sockets
    finally:
        server.terminate()
        server.wait(20)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8192)
    args = parser.parse_args()
    runs = [("websockets-sansio", "on"), ("websockets-sansio", "off"), ("websockets", "on")]
    try:
        import wsproto  # noqa: F401

        runs.append(("wsproto", "on"))
    except ImportError:
        print("wsproto is not installed: its floor is not measured", flush=True)
    for implementation, pings in runs:
        kib = await floor(args.sockets, implementation, pings, args.port)
        print(f"{implementation:18} pings {pings:3}  {kib:5.1f} KiB per idle socket", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
