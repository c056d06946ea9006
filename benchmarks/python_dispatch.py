#!/usr/bin/env python3
"""Per-op dispatch cost from Python: mixnet vs NumPy, PyTorch and MXNet 1.9.1, in one run.

    python benchmarks/python_dispatch.py [--repeats 7] [--seconds 0.05]

Each peer runs in its own subprocess (MXNet with its venv's python) with the same thread
settings (one compute thread), the same code and small inputs, so the time is the cost of
getting from Python to the kernel and back:
  add     c = a + b on 10-element float32 arrays
  relu    relu(x) on 10 elements
  fc      FullyConnected(x, w, b, num_hidden=16) on a 1x16 input (NumPy: x @ w.T + b;
          PyTorch: F.linear)
  dense   a Dense(16) layer's forward net(x) on 1x16 (Gluon's nn.Dense; PyTorch: nn.Linear);
          skipped where the framework has no such layer
  x[i]    a row of a 4x10 array (a view)
For the engine-based frameworks (mixnet, MXNet) a repeat times N calls and then waitall(), so
the work itself is counted; the "push" columns time the N calls alone (the work drained
outside the timing). The time per call is the median over repeats. Ratios are peer time /
mixnet time: above 1 means mixnet is faster.
"""
import argparse
import json
import os
import subprocess
import sys

MXNET_PYTHON = os.environ.get(
    "MXNET_PYTHON", os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python"))
THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                               "MXNET_CPU_WORKER_NTHREADS", "MIXNET_CPU_WORKER_NTHREADS")}
CASES = ["add", "relu", "fc", "dense", "x[i]"]


# ---------------------------------------------------------------- the child (one framework)

def cases_mx(mx):
    """mixnet and MXNet share the API: the same code times both."""
    import numpy as np
    a = mx.nd.array(np.arange(10, dtype=np.float32))
    b = mx.nd.array(np.ones(10, dtype=np.float32))
    x16 = mx.nd.array(np.ones((1, 16), dtype=np.float32))
    w = mx.nd.array(np.full((16, 16), 0.1, dtype=np.float32))
    bias = mx.nd.zeros((16,))
    m = mx.nd.array(np.arange(40, dtype=np.float32).reshape(4, 10))
    fc = mx.nd.FullyConnected
    relu = mx.nd.relu
    cases = {
        "add": lambda: a + b,
        "relu": lambda: relu(a),
        "fc": lambda: fc(x16, w, bias, num_hidden=16),
        "x[i]": lambda: m[1],
    }
    try:
        net = mx.gluon.nn.Dense(16, in_units=16)
        net.initialize()
        net(x16).wait_to_read()
        cases["dense"] = lambda: net(x16)
    except Exception as e:  # noqa: BLE001 (no Gluon in this build: the row is skipped)
        cases["dense"] = "no mx.gluon.nn.Dense: %s" % type(e).__name__
    return cases, mx.nd.waitall


def cases_numpy():
    import numpy as np
    a = np.arange(10, dtype=np.float32)
    b = np.ones(10, dtype=np.float32)
    x16 = np.ones((1, 16), dtype=np.float32)
    w = np.full((16, 16), 0.1, dtype=np.float32)
    bias = np.zeros(16, dtype=np.float32)
    m = np.arange(40, dtype=np.float32).reshape(4, 10)
    return {
        "add": lambda: a + b,
        "relu": lambda: np.maximum(a, 0),
        "fc": lambda: x16 @ w.T + bias,
        "dense": "NumPy has no layers",
        "x[i]": lambda: m[1],
    }, None


def cases_torch():
    import torch
    torch.set_num_threads(1)
    a = torch.arange(10, dtype=torch.float32)
    b = torch.ones(10)
    x16 = torch.ones(1, 16)
    w = torch.full((16, 16), 0.1)
    bias = torch.zeros(16)
    m = torch.arange(40, dtype=torch.float32).reshape(4, 10)
    net = torch.nn.Linear(16, 16)
    linear = torch.nn.functional.linear
    grad = torch.no_grad()  # inference, as the others (no autograd recording)
    grad.__enter__()
    return {
        "add": lambda: a + b,
        "relu": lambda: torch.relu(a),
        "fc": lambda: linear(x16, w, bias),
        "dense": lambda: net(x16),
        "x[i]": lambda: m[1],
    }, None


def time_case(fn, drain, repeats, seconds):
    import time
    perf = time.perf_counter
    for _ in range(200):  # warm up (attribute caches, allocator pools)
        fn()
    if drain:
        drain()
    n = 100
    while True:  # calls per repeat: about `seconds` of work
        t0 = perf()
        for _ in range(n):
            fn()
        if drain:
            drain()
        if perf() - t0 > seconds / 4 or n >= 1 << 22:
            break
        n *= 4
    n = max(100, int(n * seconds / max(perf() - t0, 1e-9)))
    total, push = [], []
    for _ in range(repeats):
        t0 = perf()
        for _ in range(n):
            fn()
        t1 = perf()
        if drain:
            drain()
        t2 = perf()
        push.append((t1 - t0) / n * 1e6)
        total.append((t2 - t0) / n * 1e6)
    total.sort()
    push.sort()
    return {"us": total[len(total) // 2], "push_us": push[len(push) // 2] if drain else None,
            "calls": n, "samples_us": total}


def child(name, repeats, seconds):
    if name == "mixnet":
        import mixnet as mx
        cases, drain = cases_mx(mx)
    elif name == "mxnet":
        import warnings
        warnings.filterwarnings("ignore")
        import mxnet as mx
        cases, drain = cases_mx(mx)
    elif name == "numpy":
        cases, drain = cases_numpy()
    else:
        cases, drain = cases_torch()
    out = {}
    for case in CASES:
        fn = cases.get(case)
        out[case] = ({"skip": fn} if isinstance(fn, str)
                     else time_case(fn, drain, repeats, seconds))
    print(json.dumps(out))


# ---------------------------------------------------------------- the parent (the table)

def run_peer(name, python, repeats, seconds):
    env = dict(os.environ, **THREAD_ENV)
    here = os.path.abspath(__file__)
    r = subprocess.run([python, here, "--child", name, "--repeats", str(repeats),
                        "--seconds", str(seconds)], capture_output=True, text=True, env=env,
                       check=False, timeout=900)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(r.stdout.strip().splitlines()[-1]), None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seconds", type=float, default=0.05, help="time per repeat")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--json", help="also write the results here ({framework: {case: {us, "
                   "push_us, calls, samples_us}}}, and the skipped peers under \"notes\")")
    args = p.parse_args()
    if args.child:
        child(args.child, args.repeats, args.seconds)
        return
    peers = [("mixnet", sys.executable), ("numpy", sys.executable), ("torch", sys.executable),
             ("mxnet", MXNET_PYTHON)]
    results, notes = {}, []
    for name, python in peers:
        if name == "mxnet" and not os.path.exists(python):
            notes.append(f"mxnet: skipped, no MXNet 1.9.1 venv at {python} (set MXNET_PYTHON)")
            continue
        res, err = run_peer(name, python, args.repeats, args.seconds)
        if res is None:
            notes.append(f"{name}: skipped ({err})")
        else:
            results[name] = res
    print(f"Python op dispatch, µs per call (median of {args.repeats}; one compute thread;"
          " engines drained by waitall)")
    names = [n for n, _ in peers if n in results]
    head = f"{'case':8}" + "".join(f"{n:>10}" for n in names) + f"{'mixnet push':>13}"
    head += "".join(f"{n + '/mixnet':>15}" for n in names if n != "mixnet")
    print(head)
    for case in CASES:
        row = f"{case:8}"
        mine = results.get("mixnet", {}).get(case, {})
        for n in names:
            r = results[n][case]
            row += f"{r['us']:10.2f}" if "us" in r else f"{'-':>10}"
        row += f"{mine['push_us']:13.2f}" if mine.get("push_us") is not None else f"{'-':>13}"
        for n in names:
            if n == "mixnet":
                continue
            r = results[n][case]
            ok = "us" in r and "us" in mine
            row += f"{r['us'] / mine['us']:15.2f}" if ok else f"{'-':>15}"
        print(row)
    for n in names:
        for case in CASES:
            if "skip" in results[n][case]:
                notes.append(f"{n} {case}: {results[n][case]['skip']}")
    if "mxnet" in results:
        push = {c: results["mxnet"][c].get("push_us") for c in CASES}
        notes.append("mxnet push only: " + ", ".join(
            f"{c} {v:.2f}" for c, v in push.items() if v is not None))
    for note in notes:
        print("note:", note)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(results, notes=notes), f, indent=1)


if __name__ == "__main__":
    main()
