#!/usr/bin/env bash
# Real peers over loopback, every server started here on 127.0.0.1 and stopped here:
#  1. the component as an echo server under wasmtime, talked to by a Node `ws` client, a Python
#     `websockets` client and the component's own client (text, binary, 1 MiB, ping, close), and
#     (on a server of its own) 200 `ws` clients at once while its threads are counted;
#     and a hostile raw-socket peer (the echo replies precede the failing close);
#  2. the component as a client under wasmtime against a Node `ws` echo server;
#  3. the component's echo-client (the event loop) against a Python `websockets` server that sends
#     and checks every echo, then closes;
#  4. the echo server with --keep-alive: a `ws` client idle for eight intervals sees the engine's
#     pings (timers from the engine's next deadline, no fixed connection lifetime);
#  5. permessage-deflate (--deflate) against `ws` with perMessageDeflate, both roles, through a
#     relay that checks RSV1 and the compressed sizes on the wire (deflate-peers.mjs);
#  6. a trap in one component instance (--max-instance-memory makes growing past it trap): `ws`
#     clients see each of that instance's connections close with 1011, a raw peer on it that does
#     not read its echoes get its TCP connection closed without a close frame (its pending frames
#     could not leave), one still sending its head get a 503, another instance's connection keep
#     echoing, and new connections served by a fresh instance (trap-client.mjs);
#  7. no fixed connection lifetime: a `ws` client holds one connection 130 s (the host used to cut
#     every connection at 120 s), echoing every 10 s, then closes 1000 both ways (lifetime-client.mjs;
#     it runs in the background from the first server on, so the suite takes no longer for it).
# Usage: net-tests.sh HOST_BINARY COMPONENT PYTHON
set -euo pipefail
host=$1 component=$2 python=$3
here=$(cd "$(dirname "$0")" && pwd)
jco_dir=$(cd "$here/../jco" && pwd)
log=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$log"
}
trap cleanup EXIT

# Waits for "listening on ws://127.0.0.1:PORT/" in $1 and prints the URL.
wait_for_url() {
  for _ in $(seq 1 100); do
    if url=$(grep -o 'ws://127.0.0.1:[0-9]*/' "$1" 2>/dev/null); then echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "no server came up; its output:" >&2; cat "$1" >&2; return 1
}

"$host" --component "$component" echo-server --port 0 >"$log/echo.out" 2>"$log/echo.err" &
pids+=($!)
url=$(wait_for_url "$log/echo.out")
echo "== component echo server (wasmtime) at $url"
node "$here/lifetime-client.mjs" "$url" 130 >"$log/lifetime.out" 2>&1 &
lifetime=$!
pids+=($lifetime)
echo "-- Node ws client"
node "$jco_dir/ws-client.mjs" "$url"
echo "-- Python websockets client"
"$python" "$here/websockets_client.py" "$url"
echo "-- the component's own client"
"$host" --component "$component" client "$url"
echo "-- a raw-socket peer: two messages and a protocol violation in one write (replies first)"
port=${url#ws://127.0.0.1:}
node "$here/../js/raw-peer.mjs" "${port%/}"
sleep 0.2
echo "-- server log"
cat "$log/echo.err"

node "$jco_dir/ws-echo-server.mjs" 0 >"$log/ws.out" 2>&1 &
pids+=($!)
url=$(wait_for_url "$log/ws.out")
echo "== Node ws echo server at $url, component client (wasmtime)"
"$host" --component "$component" client "$url"

"$python" "$here/websockets_echo_checker.py" >"$log/checker.out" 2>&1 &
checker=$!
pids+=($checker)
url=$(wait_for_url "$log/checker.out")
echo "== Python websockets checking server at $url, component echo-client (wasmtime)"
"$host" --component "$component" echo-client "$url"
wait "$checker" || { cat "$log/checker.out"; exit 1; }
cat "$log/checker.out"

"$host" --component "$component" echo-server --port 0 --keep-alive 200 >"$log/keepalive.out" 2>"$log/keepalive.err" &
pids+=($!)
url=$(wait_for_url "$log/keepalive.out")
echo "== component echo server (wasmtime) with --keep-alive 200 at $url, Node ws client"
node "$here/keepalive-client.mjs" "$url" 200

"$host" --component "$component" echo-server --port 0 >"$log/threads.out" 2>"$log/threads.err" &
pids+=($!)
url=$(wait_for_url "$log/threads.out")
echo "== component echo server (wasmtime) at $url, 200 Node ws clients at once: no thread per connection"
node "$here/threads-client.mjs" "$url" "${pids[-1]}" || { tail -5 "$log/threads.err"; exit 1; }

echo "== permessage-deflate: the component (wasmtime, --deflate) and Node ws with perMessageDeflate, both roles"
node "$here/deflate-peers.mjs" "$host" "$component"

# 4 MiB: the instance's memory at start (about 1.4 MiB) and a few connections fit, the echo of a
# 6 MiB message does not.
ceiling=$((4 * 1024 * 1024))
"$host" --component "$component" echo-server --port 0 --per-instance 5 --max-instance-memory "$ceiling" >"$log/trap.out" 2>"$log/trap.err" &
pids+=($!)
url=$(wait_for_url "$log/trap.out")
echo "== component echo server (wasmtime) with --per-instance 5 --max-instance-memory $ceiling at $url, Node ws clients"
node "$here/trap-client.mjs" "$url" "$ceiling" || { cat "$log/trap.err"; exit 1; }
grep -q "an instance trapped: its 5 connection(s) are failed" "$log/trap.err" || { echo "the server did not report the trap"; cat "$log/trap.err"; exit 1; }
# The peer that does not read: a reset may discard what its kernel held, so the server's own
# account says the pending frames did not leave and no close frame followed them.
grep -q "pending bytes within 5s; closed the TCP connection without a close frame" "$log/trap.err" || { echo "the server did not cut the connection that does not read"; cat "$log/trap.err"; exit 1; }
grep -v '^ ' "$log/trap.err" | grep -v '^$' | grep -v '^Caused by' | cut -c1-200
echo "== waiting for the connection held past 120 s (started with the first server)"
wait "$lifetime" || { echo "the long-lived connection failed:"; cat "$log/lifetime.out"; exit 1; }
cat "$log/lifetime.out"
echo "net-tests: all passed"
