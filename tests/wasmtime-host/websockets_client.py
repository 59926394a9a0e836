"""A Python `websockets` client that checks an echo server: text, binary, 1 MiB, ping, close.

Exits 0 only when every echo matches. Usage: python websockets_client.py ws://127.0.0.1:PORT/
"""
import asyncio
import sys

from websockets.asyncio.client import connect


def big_payload() -> bytes:
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for i in range(1024 * 1024))


async def main(url: str) -> None:
    async with connect(url, max_size=64 * 1024 * 1024) as ws:
        text = "hello from python websockets \U0001F980"
        await ws.send(text)
        echo = await ws.recv()
        assert echo == text, f"text echo: {echo!r}"
        print(f"text: {len(text.encode())} bytes echoed")

        binary = bytes(range(256))
        await ws.send(binary)
        echo = await ws.recv()
        assert echo == binary, "binary echo"
        print("binary: 256 bytes echoed")

        big = big_payload()
        await ws.send(big)
        echo = await ws.recv()
        assert isinstance(echo, bytes) and echo == big, "1 MiB echo"
        print("binary: 1048576 bytes (1 MiB) echoed")

        pong_waiter = await ws.ping(b"python ping")
        latency = await asyncio.wait_for(pong_waiter, 10)
        print(f"ping: pong came back ({latency * 1000:.1f} ms)")

        await ws.close(1000, "bye")
        # close_code / close_reason are those of the close frame the server sent back.
        assert ws.close_code == 1000, f"close code {ws.close_code}"
        assert ws.close_reason == "bye", f"close reason {ws.close_reason!r}"
        print(f"close: {ws.close_code} {ws.close_reason!r} echoed")
    print("websockets client: all checks passed")


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1]), 60))
