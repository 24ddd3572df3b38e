#!/usr/bin/env python3
"""bench/profile_table.py's count of the operators that launch work, on a
made-up trace: nested operators count once, a multi-tensor operator once,
views and allocations never, a CPU's reduction fill and number conversion
never, and nesting is taken per thread."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import profile_table  # noqa: E402


def ev(name, ts, dur, tid=1):
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "tid": tid}


TRACE = [
    # mul(t, 2): the number wrapped and converted on the CPU -> mul, once
    ev("aten::mul", 0, 10), ev("aten::to", 1, 3), ev("aten::_to_copy", 1.5, 2),
    ev("aten::copy_", 2, 1),
    # sum, its output filled first on the CPU -> sum, once
    ev("aten::sum", 20, 10), ev("aten::fill_", 21, 1),
    # addmm with its bias copied in first on the CPU -> addmm, once
    ev("aten::linear", 40, 10), ev("aten::t", 40.5, 0.5), ev("aten::addmm", 41, 8),
    ev("aten::copy_", 42, 1),
    # a multi-tensor operator, a loop of per-tensor ones on the CPU -> once
    ev("aten::_foreach_add_", 60, 10), ev("aten::add_", 61, 2), ev("aten::add_", 64, 2),
    # views and allocations -> none
    ev("aten::empty", 80, 1), ev("aten::view", 82, 1), ev("aten::as_strided", 82.2, 0.5),
    # a copy of its own -> once
    ev("aten::copy_", 90, 2),
    # autograd's bookkeeping around a backward operator -> the mul, once
    ev("autograd::engine::evaluate_function: MulBackward0", 100, 10),
    ev("MulBackward0", 101, 8), ev("aten::mul", 102, 5),
    # another thread's operator during the first mul -> once, not nested
    ev("aten::add", 2, 5, tid=2),
]


def main():
    launches = profile_table.launching_operators(TRACE)
    got = dict(launches)
    want = {("", "aten::mul"): 1, ("", "aten::sum"): 1,
            ("aten::linear", "aten::addmm"): 1, ("", "aten::_foreach_add_"): 1,
            ("", "aten::copy_"): 1, ("MulBackward0", "aten::mul"): 1,
            ("", "aten::add"): 1}
    if got != want:
        print("profile_table_test: launching operators", sorted(got.items()),
              "expected", sorted(want.items()))
        return 1
    print("profile_table_test: 7 launching operators, as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
