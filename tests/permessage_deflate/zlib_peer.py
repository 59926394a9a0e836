"""An independent permessage-deflate peer for tests/permessage_deflate.rs: C zlib through Python's
standard library (the zlib that Node, and so ws, also runs).

Reads one JSON document on stdin:
  {"cases": [{"window_bits": 8..15, "no_context_takeover": bool,
              "messages": [hex, ...],        # the original messages
              "ours": [hex, ...],            # wsaction's compressed payloads of those messages
              "fragment_size": int}]}        # piece size for this peer's fragmented compression
Writes one JSON document on stdout:
  {"cases": [{"inflated_ours": [hex, ...],   # what zlib makes of wsaction's payloads
              "theirs": [hex, ...],          # zlib's payload of each whole message
              "theirs_fragmented": [[hex, ...], ...]}]}  # zlib's frames of each message

Compression follows RFC 7692 7.2.1 as ws does: a sync flush per piece, the final 0x00 0x00 0xff 0xff
removed from the last piece only. zlib refuses a raw window of 2^8 for deflate, so 8 compresses with
9, as Node's zlib does for ws. Inflation uses exactly the agreed window, 8 included, so a wsaction
payload that reaches further back than agreed fails here ("invalid distance too far back").
"""
import json
import sys
import zlib

TAIL = b"\x00\x00\xff\xff"


def compressor(bits):
    return zlib.compressobj(6, zlib.DEFLATED, -max(bits, 9), 8)


def compress(messages, bits, no_context_takeover, fragment_size):
    whole, fragmented = [], []
    encoder = compressor(bits)
    fragment_encoder = compressor(bits)
    for message in messages:
        if no_context_takeover:
            encoder = compressor(bits)
            fragment_encoder = compressor(bits)
        data = encoder.compress(message) + encoder.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(TAIL)
        whole.append(data[:-4].hex())
        pieces = [message[i:i + fragment_size] for i in range(0, len(message), fragment_size)] or [b""]
        frames = []
        for index, piece in enumerate(pieces):
            data = fragment_encoder.compress(piece) + fragment_encoder.flush(zlib.Z_SYNC_FLUSH)
            if index == len(pieces) - 1:
                assert data.endswith(TAIL)
                data = data[:-4]
            frames.append(data.hex())
        fragmented.append(frames)
    return whole, fragmented


def inflate(payloads, bits, no_context_takeover):
    out = []
    decoder = zlib.decompressobj(-bits)
    for payload in payloads:
        if no_context_takeover:
            decoder = zlib.decompressobj(-bits)
        try:
            out.append(decoder.decompress(bytes.fromhex(payload) + TAIL).hex())
        except zlib.error as error:
            out.append("error: " + str(error))
            decoder = zlib.decompressobj(-bits)
    return out


def main():
    request = json.load(sys.stdin)
    answers = []
    for case in request["cases"]:
        bits, reset = case["window_bits"], case["no_context_takeover"]
        messages = [bytes.fromhex(m) for m in case["messages"]]
        theirs, fragmented = compress(messages, bits, reset, case["fragment_size"])
        answers.append({
            "inflated_ours": inflate(case["ours"], bits, reset),
            "theirs": theirs,
            "theirs_fragmented": fragmented,
        })
    json.dump({"cases": answers}, sys.stdout)


if __name__ == "__main__":
    main()
