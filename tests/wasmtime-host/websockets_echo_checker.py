"""A Python `websockets` server that checks an echo client: for the first connection it sends
text, binary, 1 MiB and a ping, checks each echo (and the pong), then closes with 1000 and
expects the client's 1000 back. Exits 0 only when every check held.

Prints "listening on ws://127.0.0.1:PORT/" once it listens.
Usage: python websockets_echo_checker.py
"""
import asyncio
import sys

from websockets.asyncio.server import serve


def big_payload() -> bytes:
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for i in range(1024 * 1024))


async def check(ws, done: asyncio.Future) -> None:
    try:
        text = "hello to the component's echo client \U0001F980"
        await ws.send(text)
        echo = await ws.recv()
        assert echo == text, f"text echo: {echo!r}"
        print(f"text: {len(text.encode())} bytes echoed")

        binary = bytes(range(256))
        await ws.send(binary)
        assert await ws.recv() == binary, "binary echo"
        print("binary: 256 bytes echoed")

        big = big_payload()
        await ws.send(big)
        echo = await ws.recv()
        assert isinstance(echo, bytes) and echo == big, "1 MiB echo"
        print("binary: 1048576 bytes (1 MiB) echoed")

        latency = await asyncio.wait_for(await ws.ping(b"server ping"), 10)
        print(f"ping: pong came back ({latency * 1000:.1f} ms)")

        await ws.close(1000, "done")
        # The client's close frame: the same status back (RFC 6455 section 5.5.1).
        assert ws.close_code == 1000, f"client's close code {ws.close_code}"
        print("close: 1000 both ways")
        done.set_result(None)
    except Exception as e:  # reported by main, which exits 1
        done.set_exception(e)


async def main() -> None:
    done = asyncio.get_running_loop().create_future()
    async with serve(lambda ws: check(ws, done), "127.0.0.1", 0, max_size=64 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await asyncio.wait_for(done, 30)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:
        print(f"websockets echo checker: {e!r}", file=sys.stderr)
        sys.exit(1)
    print("websockets echo checker: all checks passed")
