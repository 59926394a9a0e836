"""Python `websockets` with permessage-deflate (its default) against wsaction, both roles
(driven by python.test.mjs).

`client URL`: connects to a wsaction server, sends TEXT (a JSON-like text) and a fragmented text,
checks the echoes. `server`: serves one connection on 127.0.0.1 (port printed first, as one JSON
line), echoing each message, and ends when the peer closes. Each mode prints one JSON line with
the extension websockets negotiated (its name and agreed parameters) and what it saw."""
import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

RECORDS = [{"id": i, "name": "alpha", "kind": "ticker", "value": i * 7.5, "tags": ["a", "b", "c"]} for i in range(2000)]
TEXT = json.dumps(RECORDS, separators=(",", ":"))


def agreed(ws) -> list:
    """websockets' negotiated extensions: name and the parameters it agreed."""
    out = []
    for extension in ws.protocol.extensions:
        out.append({
            "name": extension.name,
            "remote_no_context_takeover": extension.remote_no_context_takeover,
            "local_no_context_takeover": extension.local_no_context_takeover,
            "remote_max_window_bits": extension.remote_max_window_bits,
            "local_max_window_bits": extension.local_max_window_bits,
        })
    return out


async def client(url: str) -> None:
    seen = {}
    async with connect(url, max_size=64 * 1024 * 1024) as ws:
        seen["extensions"] = agreed(ws)
        echoes = []
        for message in [TEXT, "short", TEXT]:
            await ws.send(message)
            echoes.append(await ws.recv() == message)
        await ws.send(["frag-", "ment ", TEXT])  # one fragmented, compressed message
        echoes.append(await ws.recv() == "frag-ment " + TEXT)
        seen["echoes"] = echoes
        await ws.close(code=4010, reason="python bye")
        seen["close"] = [ws.close_code, ws.close_reason]
    print(json.dumps(seen), flush=True)


async def server() -> None:
    done = asyncio.get_running_loop().create_future()
    seen = {}

    async def echo(ws):
        seen["extensions"] = agreed(ws)
        count = 0
        try:
            async for message in ws:
                count += 1
                await ws.send(message)
        except ConnectionClosed:  # a close code other than 1000/1001 ends the iteration so
            pass
        seen["messages"] = count
        seen["close"] = [ws.close_code, ws.close_reason]
        done.set_result(None)

    async with serve(echo, "127.0.0.1", 0, max_size=64 * 1024 * 1024) as srv:
        port = srv.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        await asyncio.wait_for(done, 60)
    print(json.dumps(seen), flush=True)


if sys.argv[1] == "client":
    asyncio.run(client(sys.argv[2]))
else:
    asyncio.run(server())
