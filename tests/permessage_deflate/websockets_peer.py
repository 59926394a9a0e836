"""Python websockets (sync API) as a real permessage-deflate peer for tests/deflate_interop.rs.

  server PARAMS_JSON   an echo server on 127.0.0.1 (port printed on the first stdout line) that
                       accepts permessage-deflate with ServerPerMessageDeflateFactory(**PARAMS),
                       serves one connection, then prints the response's Sec-WebSocket-Extensions
                       and exits.
  client PORT PARAMS_JSON
                       connects with ClientPerMessageDeflateFactory(**PARAMS), sends each message
                       of the test corpus, checks each echo, closes with 1000 and prints the
                       Sec-WebSocket-Extensions the server answered.
Exits non-zero on any mismatch.
"""
import json
import sys
import threading

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.client import connect
from websockets.sync.server import serve


def corpus():
    record = '{"id":%d,"name":"alpha","kind":"ticker","value":%d.5,"tags":["a","b","c"]}'
    text = "[" + ",".join(record % (i, i * 7) for i in range(2000)) + "]"
    return [
        "Hello",
        "",
        text,
        text,  # again: context takeover makes it tiny
        bytes(range(256)) * 300,  # binary, longer than a 2^15 window
        "héllo wörld — ✓ " * 500,
        b"\x00" * 1_000_000,
    ]


def run_server(params):
    holder = {}

    def echo(websocket):
        holder["extensions"] = websocket.response.headers.get("Sec-WebSocket-Extensions")
        try:
            for message in websocket:
                websocket.send(message)
        finally:
            # One connection, then stop (shutdown waits for this handler, so from another thread).
            threading.Thread(target=holder["server"].shutdown).start()

    with serve(echo, "127.0.0.1", 0, compression=None,
               extensions=[ServerPerMessageDeflateFactory(**params)], max_size=None) as server:
        holder["server"] = server
        print(server.socket.getsockname()[1], flush=True)
        server.serve_forever()
    print(json.dumps({"extensions": holder.get("extensions")}), flush=True)


def run_client(port, params):
    with connect(f"ws://127.0.0.1:{port}/", compression=None,
                 extensions=[ClientPerMessageDeflateFactory(**params)], max_size=None,
                 open_timeout=30, close_timeout=30) as websocket:
        for message in corpus():
            websocket.send(message)
            echo = websocket.recv(timeout=30)
            if echo != message:
                print(f"echo mismatch: sent {type(message).__name__} of {len(message)}, got {type(echo).__name__} of {len(echo)}", file=sys.stderr)
                sys.exit(1)
        extensions = websocket.response.headers.get("Sec-WebSocket-Extensions")
        websocket.close(1000)
    print(json.dumps({"extensions": extensions}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        run_server(json.loads(sys.argv[2]))
    else:
        run_client(int(sys.argv[2]), json.loads(sys.argv[3]))
