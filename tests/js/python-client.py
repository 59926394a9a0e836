"""Python `websockets` client against the wsaction Node server (driven by python.test.mjs).

Prints one JSON object with what it saw; the Node test checks it."""
import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def main(url: str) -> None:
    seen = {}
    async with connect(url, subprotocols=["chat"], max_size=64 * 1024 * 1024) as ws:
        seen["subprotocol"] = ws.subprotocol
        await ws.send("héllo from python")
        seen["text"] = await ws.recv()
        await ws.send(b"\x00\x01\xfe\xff")
        echo = await ws.recv()
        seen["binary"] = list(echo) if isinstance(echo, bytes) else echo
        await ws.send("")
        seen["empty"] = await ws.recv()
        await ws.send(["frag-", "ment"])  # an iterable is sent as one fragmented message
        seen["fragmented"] = await ws.recv()
        big = bytes(range(256)) * (4 * 1024 * 4)  # 4 MiB
        await ws.send(big)
        got = await ws.recv()
        seen["big"] = len(got) == len(big) and got == big
        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, 5)
        seen["pong"] = True
        await ws.close(code=4010, reason="python bye")
        seen["close"] = [ws.close_code, ws.close_reason]

    async with connect(url) as ws:
        await ws.send("please close")
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed:
            pass
        seen["server_close"] = [ws.close_code, ws.close_reason]
    print(json.dumps(seen))


asyncio.run(main(sys.argv[1]))
