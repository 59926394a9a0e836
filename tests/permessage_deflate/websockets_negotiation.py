"""Python websockets' own permessage-deflate negotiation (its extension factories), the other side
of tests/permessage_deflate.rs's negotiation cross-check. Reads JSON on stdin, writes JSON on stdout.

mode "serve": for each case, websockets' server factory (with case["server"] as keyword arguments)
  answers case["offer"] (a wsaction client's offer). Answer: the response header text, or the
  reason websockets declined, and the settings websockets will use.
mode "offer": for each case, the offer websockets' client factory (case["client"]) makes.
mode "check": for each case, websockets' client factory (case["client"]) checks case["response"]
  (a wsaction server's response). Answer: the settings websockets will use, or its error.
Settings: {"local_no_context_takeover", "remote_no_context_takeover", "local_max_window_bits",
"remote_max_window_bits"} as websockets' PerMessageDeflate holds them.
"""
import json
import sys

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.headers import build_extension, parse_extension


def settings(extension):
    return {
        "local_no_context_takeover": extension.local_no_context_takeover,
        "remote_no_context_takeover": extension.remote_no_context_takeover,
        "local_max_window_bits": extension.local_max_window_bits,
        "remote_max_window_bits": extension.remote_max_window_bits,
    }


def serve(case):
    factory = ServerPerMessageDeflateFactory(**case["server"])
    for name, params in parse_extension(case["offer"]):
        if name != factory.name:
            continue
        try:
            response, extension = factory.process_request_params(params, [])
        except Exception as error:  # websockets declines by raising NegotiationError
            return {"declined": f"{type(error).__name__}: {error}"}
        return {"response": build_extension([(name, response)]), "settings": settings(extension)}
    return {"declined": "no offer"}


def offer(case):
    factory = ClientPerMessageDeflateFactory(**case["client"])
    return {"offer": build_extension([(factory.name, factory.get_request_params())])}


def check(case):
    factory = ClientPerMessageDeflateFactory(**case["client"])
    try:
        [(name, params)] = parse_extension(case["response"])
        extension = factory.process_response_params(params, [])
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return {"settings": settings(extension)}


def main():
    request = json.load(sys.stdin)
    handler = {"serve": serve, "offer": offer, "check": check}[request["mode"]]
    json.dump([handler(case) for case in request["cases"]], sys.stdout)


if __name__ == "__main__":
    main()
