#!/usr/bin/env python3
"""Where a profiled case's time goes: each LibTorch operator's self time
(its own time, less the operators it called) summed over a Chrome trace that
`build/bench/iai_device_bench --filter CASE --profile FILE` wrote.

    python3 bench/profile_table.py FILE [--calls N] [--top K]

--calls N divides every figure by the number of timed calls (the bench
prints the case's ms per call; the trace's total / that gives N), so the
table reads in ms per step."""
import argparse
import collections
import json


def self_times(events):
    """(name -> [self us, total us, count]) with nesting taken per thread."""
    table = collections.defaultdict(lambda: [0.0, 0.0, 0])
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, children's time]
        def close(frame):
            end, name, dur, children = frame
            row = table[name]
            row[0] += dur - children
            row[1] += dur
            row[2] += 1
        for e in evs:
            while stack and e["ts"] >= stack[-1][0] - 1e-6:
                close(stack.pop())
            if stack:
                stack[-1][3] += e["dur"]
            stack.append([e["ts"] + e["dur"], e["name"], e["dur"], 0.0])
        while stack:
            close(stack.pop())
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--calls", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    with open(args.trace) as f:
        events = json.load(f)
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    table = self_times(events)
    total = sum(r[0] for r in table.values())
    n = args.calls
    print(f"{'operator':<44} {'self ms':>9} {'share':>6} {'calls':>8}")
    for name, (own, _, count) in sorted(table.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{name[:44]:<44} {own / 1e3 / n:>9.3f} {100 * own / total:>5.1f}% {count / n:>8.1f}")
    calls = sum(r[2] for r in table.values())
    print(f"{'all operators':<44} {total / 1e3 / n:>9.3f} {100.0:>5.1f}% {calls / n:>8.1f}")


if __name__ == "__main__":
    main()
