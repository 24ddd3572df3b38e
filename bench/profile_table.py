#!/usr/bin/env python3
"""Where a profiled case's time goes: each LibTorch operator's self time
(its own time, less the operators it called) summed over a Chrome trace that
`build/bench/iai_device_bench --filter CASE --profile FILE` wrote.

    python3 bench/profile_table.py FILE [--calls N] [--top K]

--calls N divides every figure by the number of timed calls (the bench
prints the case's ms per call; the trace's total / that gives N), so the
table reads in ms per step.

The last line counts the operators that launch work of their own: those
that call no other operator, less views, allocations and autograd's
bookkeeping, with a multi-tensor (_foreach_) operator counted once however
many tensors it covers (one launch on a GPU, a loop of per-tensor operators
on the CPU). On a GPU that is about how many kernels the calls launched; on
a CPU under IAI_KERNELS=libtorch, how many the same calls would launch on a
GPU (docs/gpu.md)."""
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


# Operators that launch nothing: views, metadata, allocations.
NO_WORK = {
    "aten::empty", "aten::empty_strided", "aten::empty_like", "aten::view",
    "aten::as_strided", "aten::t", "aten::transpose", "aten::slice",
    "aten::narrow", "aten::select", "aten::expand", "aten::unsqueeze",
    "aten::squeeze", "aten::reshape", "aten::_reshape_alias", "aten::detach",
    "detach", "aten::detach_", "detach_", "aten::alias", "aten::resolve_conj",
    "aten::resolve_neg", "aten::split", "aten::chunk", "aten::unbind",
    "aten::to", "aten::lift_fresh", "aten::set_", "aten::resize_",
    "aten::_unsafe_view", "aten::permute", "aten::contiguous",
    "aten::result_type", "aten::record_stream", "aten::zeros_like",
}


# On a CPU a reduction fills its output before it sums into it, and an
# elementwise operator copies an operand of another type first; on a GPU
# both happen inside the operator's own kernel.
REDUCTIONS = {"aten::sum", "aten::mean", "aten::all", "aten::any",
              "aten::amax", "aten::amin", "aten::max", "aten::min",
              "aten::norm", "aten::linalg_vector_norm"}


def cpu_only(name, parent):
    if name == "aten::fill_" and parent in REDUCTIONS:
        return True
    return name == "aten::copy_" and parent is not None and parent not in NO_WORK \
        and parent not in ("aten::copy_", "aten::_to_copy", "aten::clone",
                           "aten::contiguous", "aten::addmm", "aten::mm",
                           "aten::cat", "aten::stack")


def launching_operators(events):
    """How many operators did work of their own (see the module's doc): an
    operator counts when it is not bookkeeping and none of the operators it
    called did work; a _foreach_ operator counts once, with what it called."""
    count = 0
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, a callee did work]
        def close(frame):
            nonlocal count
            _, name, callee_worked = frame
            parent = stack[-1] if stack else None
            if any(f[1].startswith("aten::_foreach_") for f in stack):
                return  # part of the enclosing multi-tensor operator
            bookkeeping = name in NO_WORK or "Backward" in name or \
                name.startswith(("autograd::", "torch::autograd::")) or \
                cpu_only(name, parent[1] if parent else None)
            worked = callee_worked
            if name.startswith("aten::_foreach_") or (not bookkeeping and not callee_worked):
                count += 1
                worked = True
            if parent is not None and worked:
                parent[2] = True
        for e in evs:
            while stack and e["ts"] >= stack[-1][0] - 1e-6:
                close(stack.pop())
            stack.append([e["ts"] + e["dur"], e["name"], False])
        while stack:
            close(stack.pop())
    return count


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
    print(f"{'operators that launch work':<44} {'':>9} {'':>6} {launching_operators(events) / n:>8.1f}")


if __name__ == "__main__":
    main()
