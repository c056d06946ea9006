"""Helpers shared by the benchmark suite (benchmarks/suite.py) and its workload children.

Importable by every peer's interpreter (the project venv for mixnet and PyTorch, MXNet 1.9.1's
own venv): it uses only the standard library and NumPy, never a framework.
"""
import datetime
import gzip
import json
import os
import platform
import resource
import statistics
import struct
import time

import numpy as np

# Compute threads for every framework (two cores on the development machine; the suite's
# --threads changes it). The suite puts thread_env() in each child's environment; the torch child
# calls torch.set_num_threads(compute_threads()).
COMPUTE_THREADS = 2
ENGINE_WORKERS = 1  # mixnet's and MXNet's engine worker threads per CPU context (their default)


def compute_threads():
    """The compute threads a child was given (OMP_NUM_THREADS from the suite)."""
    return int(os.environ.get("OMP_NUM_THREADS", COMPUTE_THREADS))


def thread_env(threads=COMPUTE_THREADS):
    """The environment that fixes the thread counts of all frameworks alike."""
    t = str(threads)
    w = str(ENGINE_WORKERS)
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t,
            "MXNET_CPU_WORKER_NTHREADS": w, "MIXNET_CPU_WORKER_NTHREADS": w}


# Documented fallback for the machine's fp32 peak per core when fma_peak.c cannot be built:
# on the development machine (2 cores of an AVX-512 Xeon under KVM, shared by several jobs)
# fma_peak measured 221-239 GFLOP per CPU-second on one thread and 426-473 on two (2026-12-03:
# two 512-bit FMAs per cycle, 64 FLOP, at about 3.7 GHz). Timed by wall clock instead, runs that
# lost the core to other jobs measured 90-190, which is why fma_peak times CPU seconds.
PEAK_GFLOPS_PER_CORE = 235.0

# NOTE [ FLOP convention ]
# Only convolution and fully-connected layers are counted, at 2 FLOP per multiply-accumulate:
# a layer whose weight has shape (out, in/groups, *kernel) and whose output has M elements per
# sample does 2 * M * prod(weight.shape[1:]) FLOP per sample (for FC, prod = in_units).
# Training counts 3x the forward pass: the backward pass computes the input gradient and the
# weight gradient, each as many MACs as the forward (the first layer's input gradient is counted
# though frameworks may skip it). BatchNorm, activations, pooling and the optimizer are not
# counted, so the fraction of peak is a lower bound on the arithmetic rate.
TRAIN_FLOP_FACTOR = 3


def layer_flops(out_elements_per_sample, weight_shape):
    """FLOP per sample of one convolution or FC layer (NOTE [ FLOP convention ])."""
    macs_per_output = int(np.prod(weight_shape[1:], dtype=np.int64))
    return 2 * int(out_elements_per_sample) * macs_per_output


def symbol_flops(symbol_json, arg_shapes, out_shapes, batch):
    """Forward FLOP per sample of the Convolution and FullyConnected nodes of an MXNet-format
    symbol graph.

    symbol_json: the graph as `Symbol.tojson()` (a string or its parsed dict).
    arg_shapes: {variable name: shape}; out_shapes: {"<node name>_output": shape}, as
    `get_internals().infer_shape(...)` gives them; batch: the leading dimension of the data.
    """
    graph = json.loads(symbol_json) if isinstance(symbol_json, str) else symbol_json
    nodes = graph["nodes"]
    total = 0
    for node in nodes:
        if node["op"] not in ("Convolution", "FullyConnected"):
            continue
        weight = nodes[node["inputs"][1][0]]["name"]
        out = out_shapes[node["name"] + "_output"]
        total += layer_flops(int(np.prod(out, dtype=np.int64)) // batch, arg_shapes[weight])
    return total


def gluon_flops(mx, net, data_shape):
    """Forward FLOP per sample of a hybridized, already-run Gluon network (mixnet or MXNet): the
    exported graph's shapes are inferred at data_shape."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "net")
        net.export(prefix)
        sym = mx.sym.load(prefix + "-symbol.json")
    internals = sym.get_internals()
    arg, out, _ = internals.infer_shape(data=data_shape)
    arg_shapes = dict(zip(internals.list_arguments(), arg))
    out_shapes = dict(zip(internals.list_outputs(), out))
    return symbol_flops(sym.tojson(), arg_shapes, out_shapes, data_shape[0])


def torch_flops(torch, model, example):
    """Forward FLOP per sample of a torch model's Conv2d and Linear layers, from the output
    shapes seen by forward hooks on one call with `example`."""
    total = [0]

    def hook(module, _inputs, output):
        total[0] += layer_flops(output.numel() // example.shape[0], module.weight.shape)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(example)
    for h in handles:
        h.remove()
    return total[0]


# ---------------------------------------------------------------- measuring

def time_reps(step, sync, warmup, reps, iters):
    """Runs step() `warmup` times, then `reps` repetitions of `iters` calls each followed by
    sync(); returns the seconds per call of each repetition."""
    for _ in range(warmup):
        step()
    sync()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        sync()
        out.append((time.perf_counter() - t0) / iters)
    return out


def summarize(samples):
    """Median, min, max and quartiles of a list of numbers, plus the list itself."""
    s = sorted(float(x) for x in samples)
    q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
    return {"median": statistics.median(s), "min": s[0], "max": s[-1], "q1": q[0], "q3": q[2],
            "n": len(s), "samples": s}


def peak_memory():
    """This process's peak resident memory: VmHWM from /proc/self/status and ru_maxrss, in MiB."""
    out = {"maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    out["vmhwm_mib"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def load_fashion_mnist(n, folder="/usr/share/datasets/fashion-mnist"):
    """The first n training images as float32 (n, 1, 28, 28) in [0, 1] and labels as float32,
    read from Debian's idx.gz files with NumPy only."""
    def read(name):
        with gzip.open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        ndim = data[3]
        dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
        return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    images = read("train-images-idx3-ubyte.gz")[:n].astype(np.float32) / 255.0
    labels = read("train-labels-idx1-ubyte.gz")[:n].astype(np.float32)
    return images.reshape(-1, 1, 28, 28), labels


# ---------------------------------------------------------------- machine and report

def machine_info():
    """CPU model, cores and memory of this machine (Linux /proc)."""
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "memory_gib": None, "os": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def ratio(peer, mine, higher_is_better):
    """Peer time / mixnet time: above 1 means mixnet is faster (or smaller)."""
    if peer is None or mine is None or peer == 0 or mine == 0:
        return None
    return mine / peer if higher_is_better else peer / mine


def _fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table_rows(rows, peers):
    """Rows of cells [workload, unit, <one per framework>, <peer/mixnet per peer>] from the
    suite's row records ({"label", "unit", "higher_is_better", "values": {fw: summary}})."""
    out = []
    for r in rows:
        vals = {fw: (v or {}).get("median") for fw, v in r["values"].items()}
        cells = [r["label"], r["unit"]] + [_fmt(vals.get(fw)) for fw in ["mixnet"] + peers]
        for fw in peers:
            x = ratio(vals.get(fw), vals.get("mixnet"), r["higher_is_better"])
            cells.append("-" if x is None else f"{x:.2f}x")
        out.append(cells)
    return out


def render_text(sections, peers, names):
    """The table for the terminal: one block per section."""
    lines = []
    head = ["workload", "unit"] + [names[f] for f in ["mixnet"] + peers]
    head += [f"{names[f]}/mixnet" for f in peers]
    for title, rows in sections:
        if not rows:
            continue
        cells = [head] + table_rows(rows, peers)
        widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
        lines.append(f"== {title}")
        for c in cells:
            lines.append("  ".join(c[i].ljust(widths[i]) if i < 2 else c[i].rjust(widths[i])
                                   for i in range(len(c))))
        lines.append("")
    return "\n".join(lines)


def render_markdown(report, sections, peers, names):
    """docs/benchmarks.md: the machine, date, versions, threads and command, then the tables."""
    m = report["machine"]
    lines = ["# Benchmarks: mixnet vs PyTorch and MXNet 1.9.1", "",
             "Generated by `benchmarks/suite.py` (run by `bash benchmarks/run.sh`); raw numbers "
             "with min, max and quartiles in `benchmarks/results/latest.json`.", "",
             f"- Command: `{report['command']}`",
             f"- Date: {report['date']}",
             f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB memory "
             f"({m['os']})",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
             "- Threads: " + report["threads_text"],
             f"- fp32 peak: {report['peak']['gflops']:.0f} GFLOP/s ({report['peak']['how']})"]
    if report.get("note"):
        lines.append(f"- Note: {report['note']}")
    for s in report.get("skipped", []):
        lines.append(f"- Skipped: {s}")
    lines += ["", "Values are medians over timed repetitions after a warm-up; ratios are peer "
              "time / mixnet time (for throughput: mixnet rate / peer rate; for memory: peer / "
              "mixnet), so above 1 means mixnet is faster or smaller.", ""]
    head = ["workload", "unit"] + [names[f] for f in ["mixnet"] + peers]
    head += [f"{names[f]} / mixnet" for f in peers]
    for title, rows in sections:
        if not rows:
            continue
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |",
                  "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
        lines += ["| " + " | ".join(c) + " |" for c in table_rows(rows, peers)]
        lines.append("")
    for n in report.get("notes", []):
        lines.append(f"- {n}")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- workloads

# (warm-up calls, timed repetitions per child process, calls per repetition) of each workload,
# for the full run and for --quick. The suite runs each (framework, workload) in `rounds` fresh
# processes (alternating the framework order), so a full run times rounds x reps repetitions.
SCHEDULE = {
    "lenet": {"full": (5, 4, 10), "quick": (2, 2, 2)},
    "resnet18": {"full": (2, 3, 2), "quick": (1, 2, 1)},
    "resnet50_b1": {"full": (3, 4, 8), "quick": (2, 2, 2)},
    "resnet50_b32": {"full": (1, 3, 1), "quick": (1, 2, 1)},
    "lstm": {"full": (3, 4, 5), "quick": (1, 2, 2)},
}
LENET_BATCH, RESNET18_BATCH, RESNET50_BATCH = 128, 64, 32
# The PTB "small" configuration (Zaremba et al. 2014; MXNet's word_language_model defaults):
# vocabulary 10000, embedding 200, 2 LSTM layers of 200, bptt 35, batch 20, SGD, gradient
# clipping at 0.25 (global norm of the per-token mean loss's gradient), no dropout. The token
# ids are random (fixed seed): the speed does not depend on the text.
LSTM_VOCAB, LSTM_EMBED, LSTM_HIDDEN, LSTM_LAYERS, LSTM_BPTT, LSTM_BATCH = 10000, 200, 200, 2, 35, 20
LSTM_CLIP = 0.25


def schedule(workload, quick):
    return SCHEDULE[workload]["quick" if quick else "full"]


def child_args(description):
    """The command line of a workload child: --framework, --workload, --quick."""
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--framework", default="")
    p.add_argument("--workload", required=True)
    p.add_argument("--quick", action="store_true")
    return p.parse_args()


def emit(result):
    """Ends a child: its result, with the process's peak memory, as the last stdout line."""
    result["memory"] = peak_memory()
    result["env_threads"] = {k: os.environ.get(k) for k in thread_env()}
    print(json.dumps(result), flush=True)
