#!/usr/bin/env python3
"""Prints the codec benchmark as a table: MB/s, messages/s, and the ratio to a memcpy of the same
bytes measured in the same run. Reads criterion's estimates under $CARGO_TARGET_DIR/criterion."""
import json, os, sys

target = os.environ.get("CARGO_TARGET_DIR", "target")
root = os.path.join(target, "criterion")
# (case, payload bytes per message, messages per iteration) as in benches/codec.rs
cases = [("16B", 16, 4096), ("1KiB", 1024, 256), ("1MiB", 1 << 20, 1), ("64KiB-utf8", 64 * 1024, 4)]

def mean_ns(group, name, case):
    path = os.path.join(root, group, name, case, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"]

print(f"{'benchmark':<28}{'MB/s':>12}{'messages/s':>16}{'memcpy MB/s':>14}{'of memcpy':>11}")
for group in ("parse-masked", "frame-masked"):
    for case, size, count in cases:
        try:
            ns = mean_ns(group, "wsaction", case)
            copy_ns = mean_ns(group, "memcpy", case)
        except FileNotFoundError:
            print(f"{group}/{case}: no estimates (run `cargo bench --bench codec` first)", file=sys.stderr)
            continue
        total = size * count
        mbs = total / ns * 1e3
        msgs = count / ns * 1e9
        copy_mbs = total / copy_ns * 1e3
        print(f"{group + '/' + case:<28}{mbs:>12.0f}{msgs:>16,.0f}{copy_mbs:>14.0f}{mbs / copy_mbs:>10.1%}")
