#!/usr/bin/env python3
"""Where a profiled case's time goes: each LibTorch operator's self time
(its own time, less the operators it called) summed over a Chrome trace that
`build/bench/iai_device_bench --filter CASE --profile FILE` wrote.

    python3 bench/profile_table.py FILE [--calls N] [--top K] [--launches K]

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


def threads(events):
    """Each thread's complete events, in order of start, a caller before
    the operators it called (the longer of two that start together)."""
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
    return list(by_thread.values())


def self_times(events):
    """(name -> [self us, total us, count]) with nesting taken per thread."""
    table = collections.defaultdict(lambda: [0.0, 0.0, 0])
    for evs in threads(events):
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


# Where a copy is a kernel on a GPU too: a copy or conversion of its own,
# or one of these operators'. (A CPU's addmm copies the bias into its
# result first; a GPU's adds it in the product's own kernel.)
COPYING = {"aten::cat", "aten::stack", "aten::clone",
           "aten::contiguous", "aten::index_select", "aten::repeat"}
CONVERSIONS = {"aten::to", "aten::_to_copy", "aten::copy_"}


def cpu_only(name, callers):
    """Whether operator `name`, called from `callers` (outermost first),
    does work on a CPU that a GPU does inside another kernel."""
    caller = next((c for c in reversed(callers) if c not in NO_WORK and c not in CONVERSIONS), None)
    if name == "aten::fill_":
        return callers[-1:] != [] and callers[-1] in REDUCTIONS
    if name == "aten::div_" and "aten::mean" in callers[-2:]:
        return True  # a CPU's mean divides its sum; a GPU's, in the kernel
    if name == "aten::scalar_tensor" and caller is not None:
        return True  # a number operand wrapped in a tensor: a GPU passes it
    if name == "aten::copy_":
        # A CPU wraps a number operand in a tensor and converts it; on a GPU
        # it is an argument of the kernel.
        return caller is not None and caller not in COPYING
    return False


def launching_operators(events):
    """How many operators did work of their own (see the module's doc): an
    operator counts when it is not bookkeeping and none of the operators it
    called did work; a _foreach_ operator counts once, with what it called."""
    count = collections.Counter()  # (caller, operator) -> launches
    for evs in threads(events):
        stack = []  # [end, name, a callee did work]
        def close(frame):
            _, name, callee_worked = frame
            parent = stack[-1] if stack else None
            if any(f[1].startswith("aten::_foreach_") for f in stack):
                return  # part of the enclosing multi-tensor operator
            bookkeeping = name in NO_WORK or name in ("aten::to", "aten::_to_copy") or \
                "Backward" in name or \
                name.startswith(("autograd::", "torch::autograd::")) or \
                cpu_only(name, [f[1] for f in stack])
            worked = callee_worked
            if name.startswith("aten::_foreach_") or (not bookkeeping and not callee_worked):
                caller = next((f[1] for f in reversed(stack) if f[1] not in NO_WORK), "")
                count[(caller, name)] += 1
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
    ap.add_argument("--launches", type=int, default=0, metavar="K",
                    help="also list the K most frequent launching operators "
                         "with the operator that called them")
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
    launches = launching_operators(events)
    print(f"{'operators that launch work':<44} {'':>9} {'':>6} {sum(launches.values()) / n:>8.1f}")
    if args.launches:
        print(f"\n{'launching operator':<30} {'called by':<50} {'calls':>8}")
        for (caller, name), k in launches.most_common(args.launches):
            print(f"{name[:30]:<30} {caller[:50] or '-':<50} {k / n:>8.1f}")


if __name__ == "__main__":
    main()
