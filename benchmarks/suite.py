"""The benchmark suite: mixnet, PyTorch and Apache MXNet 1.9.1 on the same workloads in one run.

    bash benchmarks/run.sh [--quick] [--only ROW ...] [--rounds N] [--note TEXT]
    (or: python benchmarks/suite.py ... with the project venv's python)

Rows (--only takes these names; "memory" and "peak" select the workloads they are taken from):
  dispatch  Python op dispatch, µs per call (benchmarks/python_dispatch.py; one compute thread)
  lenet     LeNet training on Fashion-MNIST (preloaded in memory), batch 128, samples/s
  resnet18  ResNet-18 v1 (CIFAR stem, 3x32x32) training, batch 64, samples/s
  resnet50  ResNet-50 v1 224x224 inference: batch-1 latency (ms) and batch-32 samples/s
  lstm      LSTM language model, PTB small (vocabulary 10000, 2 layers of 200, bptt 35, batch
            20), training tokens/s
  recordio  ImageRecordIter images/s (benchmarks/image_record_iter_vs_mxnet.py; PIL decode +
            crop + flip is the PyTorch-side peer)
  memory    peak resident memory (VmHWM) of each workload's own process
  peak      fraction of the machine's fp32 peak reached by the convolutional workloads
A full step is forward, softmax cross-entropy, backward and an SGD (momentum) update. mixnet and
MXNet run the same Gluon code (workloads_gluon.py, only the import differs); PyTorch runs the
same networks as nn.Modules (workloads_torch.py); parameter counts and FLOP counts are printed
per framework to show that the models match. Each (framework, workload) runs in its own process
(`rounds` times, alternating the framework order), with the same thread counts; each process
warms up and then times several repetitions. Tables show medians; the JSON also has min, max
and quartiles. Ratios are peer time / mixnet time (above 1: mixnet is faster or smaller).

A full run writes benchmarks/results/latest.json (and a dated copy) and docs/benchmarks.md; a
--quick or --only run writes benchmarks/results/quick.json only, unless --json/--markdown say.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402

FRAMEWORKS = ["mixnet", "torch", "mxnet"]
PEERS = ["torch", "mxnet"]
NAMES = {"mixnet": "mixnet", "torch": "PyTorch", "mxnet": "MXNet 1.9.1"}
ROWS = ["dispatch", "lenet", "lstm", "resnet18", "resnet50", "recordio"]
ALIASES = {"memory": ["lenet", "lstm", "resnet18", "resnet50"],
           "peak": ["lenet", "resnet18", "resnet50"]}
MODELS = ["lenet", "lstm", "resnet18", "resnet50"]
LABELS = {
    "lenet": "LeNet Fashion-MNIST training, batch 128",
    "resnet18": "ResNet-18 v1 CIFAR 3x32x32 training, batch 64",
    "resnet50_b1": "ResNet-50 v1 224x224 inference latency, batch 1",
    "resnet50_b32": "ResNet-50 v1 224x224 inference, batch 32",
    "lstm": "LSTM LM training (PTB small: 2x200, bptt 35, batch 20)",
}
DISPATCH_LABELS = {"add": "dispatch: c = a + b (10 floats)",
                   "relu": "dispatch: relu(x) (10 floats)",
                   "fc": "dispatch: FullyConnected 1x16", "dense": "dispatch: Dense(16)(x)",
                   "x[i]": "dispatch: x[i] (row view)"}


def default_mxnet_python():
    return os.environ.get("MXNET_PYTHON") or os.environ.get("MIXNET_MXNET_PYTHON") or \
        os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")


def probe(python, code):
    """Runs `code` in `python`; returns (stdout's last line, None) or (None, why it failed)."""
    if not os.path.exists(python):
        return None, f"no interpreter at {python}"
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False,
                       timeout=300)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["failed"])[-1]
    return r.stdout.strip().splitlines()[-1], None


def git_commit():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                       text=True, check=False)
    return r.stdout.strip() or "unknown"


def measure_peak(threads):
    """fp32 peak in GFLOP/s: fma_peak.c on one thread x `threads`, or the documented constant."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        with tempfile.TemporaryDirectory() as folder:
            exe = os.path.join(folder, "fma_peak")
            build = subprocess.run([cc, "-O2", "-march=native", "-fopenmp", "-o", exe,
                                    os.path.join(HERE, "fma_peak.c")], capture_output=True,
                                   check=False)
            if build.returncode == 0:
                env = dict(os.environ, OMP_NUM_THREADS="1")
                out = subprocess.run([exe], capture_output=True, text=True, env=env, check=False)
                if out.returncode == 0:
                    one, _, vec = out.stdout.split()
                    one = float(one)
                    how = (f"benchmarks/fma_peak.c: {one:.1f} GFLOP per CPU-second of one "
                           f"thread's {int(vec) * 8}-bit FMA chains, x {threads} compute threads")
                    return {"gflops": one * threads, "per_core": one, "how": how}
    return {"gflops": bc.PEAK_GFLOPS_PER_CORE * threads, "per_core": bc.PEAK_GFLOPS_PER_CORE,
            "how": "constant PEAK_GFLOPS_PER_CORE in benchmarks/bench_common.py (fma_peak.c could"
                   " not be built)"}


class Suite:
    def __init__(self, args):
        self.args = args
        self.env = dict(os.environ, **bc.thread_env(args.threads))
        self.env.setdefault("PYTHONWARNINGS", "ignore")
        self.pythons = {"mixnet": sys.executable, "torch": sys.executable,
                        "mxnet": args.mxnet_python}
        self.skipped = []
        self.versions = {"python": sys.version.split()[0]}
        self.available = {}
        self.raw = {}  # workload -> framework -> merged child results
        self.failures = []

    def check_peers(self):
        code = {"mixnet": "import mixnet, numpy; print(mixnet.__version__, numpy.__version__)",
                "torch": "import torch; print(torch.__version__)",
                "mxnet": "import warnings; warnings.filterwarnings('ignore'); import mxnet, numpy;"
                         " print(mxnet.__version__, numpy.__version__)"}
        for fw in FRAMEWORKS:
            out, why = probe(self.pythons[fw], code[fw])
            self.available[fw] = out is not None
            if out is None:
                self.skipped.append(f"{NAMES[fw]}: {why}")
                continue
            parts = out.split()
            if fw == "mixnet":
                self.versions["mixnet"] = f"{parts[0]} ({git_commit()})"
                self.versions["numpy"] = parts[1]
            elif fw == "torch":
                self.versions["PyTorch"] = parts[0]
            else:
                self.versions["MXNet"] = f"{parts[0]} (numpy {parts[1]} in its venv)"
        if not self.available["mixnet"]:
            sys.exit("mixnet is not importable from " + sys.executable + ": " + self.skipped[-1])

    def child(self, fw, workload):
        script = "workloads_torch.py" if fw == "torch" else "workloads_gluon.py"
        cmd = [self.pythons[fw], os.path.join(HERE, script), "--framework", fw,
               "--workload", workload] + (["--quick"] if self.args.quick else [])
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, check=False,
                           timeout=1800)
        lines = r.stdout.strip().splitlines()
        if r.returncode != 0 or not lines:
            why = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
            self.failures.append(f"{NAMES[fw]} {workload}: {why}")
            print(f"   {NAMES[fw]} {workload}: FAILED ({why})", flush=True)
            return None
        return json.loads(lines[-1])

    def run_model(self, workload):
        merged = {}
        fws = [fw for fw in FRAMEWORKS if self.available[fw]]
        for r in range(self.args.rounds):
            for fw in (fws if r % 2 == 0 else fws[::-1]):
                res = self.child(fw, workload)
                if res is None:
                    continue
                m = merged.setdefault(fw, {"params": res["params"],
                                           "flops_per_sample": res["flops_per_sample"],
                                           "version": res["version"], "metrics": {},
                                           "memory": {}, "env_threads": res["env_threads"]})
                if "torch_threads" in res:
                    m["torch_threads"] = res["torch_threads"]
                for k, v in res["metrics"].items():
                    m["metrics"].setdefault(k, []).extend(v)
                for k, v in res["memory"].items():
                    m["memory"][k] = max(v, m["memory"].get(k, 0))
                brief = ", ".join(f"{k} {sorted(v)[len(v) // 2]:.1f}"
                                  for k, v in res["metrics"].items())
                print(f"   {NAMES[fw]:12} round {r + 1}: {brief}; "
                      f"VmHWM {res['memory'].get('vmhwm_mib', 0):.0f} MiB", flush=True)
        self.raw[workload] = merged
        self.check_models(workload, merged)

    def check_models(self, workload, merged):
        params = {fw: v["params"] for fw, v in merged.items()}
        flops = {fw: v["flops_per_sample"] for fw, v in merged.items()}
        line = "   parameters: " + ", ".join(f"{NAMES[f]} {p:,}" for f, p in params.items())
        if any(flops.values()):
            line += "; forward MFLOP/sample: " + ", ".join(
                f"{NAMES[f]} {x / 1e6:,.1f}" for f, x in flops.items() if x)
        print(line, flush=True)
        if len(set(params.values())) > 1 or len({x for x in flops.values() if x}) > 1:
            self.failures.append(f"{workload}: the models differ between frameworks ({line})")
            print("   WARNING: the models differ", flush=True)

    def run_script(self, row, script, extra, env):
        """Runs a benchmark script that writes its results with --json; keeps them as row's."""
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, row + ".json")
            cmd = [sys.executable, os.path.join(HERE, script), "--json", out] + extra
            r = subprocess.run(cmd, env=dict(self.env, **env), check=False, timeout=1800)
            if r.returncode != 0:
                self.failures.append(f"{row}: exit status {r.returncode}")
                return
            with open(out) as f:
                self.raw[row] = json.load(f)

    def run_dispatch(self):
        extra = ["--repeats", "3", "--seconds", "0.01"] if self.args.quick else []
        self.run_script("dispatch", "python_dispatch.py", extra,
                        {"MXNET_PYTHON": self.args.mxnet_python})

    def run_recordio(self):
        extra = ["--threads", "1", "2"]
        if self.args.quick:
            extra += ["--images", "256", "--epochs", "2"]
        mxnet = self.args.mxnet_python if self.available["mxnet"] else "/nonexistent"
        self.run_script("recordio", "image_record_iter_vs_mxnet.py", extra,
                        {"MIXNET_MXNET_PYTHON": mxnet})

    # ------------------------------------------------------------ rows of the tables

    def sections(self, peak_gflops):
        speed, memory, peak = [], [], []
        d = self.raw.get("dispatch")
        if d:
            for case, label in DISPATCH_LABELS.items():
                vals = {fw: bc.summarize(d[fw][case]["samples_us"]) for fw in FRAMEWORKS
                        if fw in d and "samples_us" in d[fw].get(case, {})}
                speed.append({"label": label, "unit": "µs/call", "higher_is_better": False,
                              "values": vals})
        metric_rows = [("lenet", "train", "lenet", "samples/s", True),
                       ("lstm", "train", "lstm", "tokens/s", True),
                       ("resnet18", "train", "resnet18", "samples/s", True),
                       ("resnet50", "latency_b1", "resnet50_b1", "ms", False),
                       ("resnet50", "throughput_b32", "resnet50_b32", "samples/s", True)]
        for workload, metric, key, unit, higher in metric_rows:
            res = self.raw.get(workload)
            if not res:
                continue
            vals = {fw: bc.summarize(v["metrics"][metric]) for fw, v in res.items()}
            speed.append({"label": LABELS[key], "unit": unit, "higher_is_better": higher,
                          "values": vals})
            if workload in ALIASES["peak"]:
                factor = 1 if workload == "resnet50" else bc.TRAIN_FLOP_FACTOR
                vals = {}
                for fw, v in res.items():
                    rates = v["metrics"][metric]
                    if not higher:  # ms per batch-1 call -> samples/s
                        rates = [1e3 / x for x in rates]
                    f = v["flops_per_sample"] * factor
                    vals[fw] = bc.summarize([f * x / (peak_gflops * 1e9) * 100 for x in rates])
                peak.append({"label": LABELS[key], "unit": "% of peak", "higher_is_better": True,
                             "values": vals})
        for workload in MODELS:
            res = self.raw.get(workload)
            if res:
                label = LABELS.get(workload, "ResNet-50 v1 224x224 inference (batch 1 and 32)")
                mib = {fw: v["memory"].get("vmhwm_mib") or v["memory"].get("maxrss_mib")
                       for fw, v in res.items()}
                memory.append({"label": label, "unit": "MiB", "higher_is_better": False,
                               "values": {fw: {"median": x} for fw, x in mib.items()}})
        rec = self.raw.get("recordio")
        if rec:
            for threads in ("1", "2"):
                vals = {"mixnet": bc.summarize(rec["mixnet"][threads])}
                if rec["mxnet"].get(threads):
                    vals["mxnet"] = bc.summarize(rec["mxnet"][threads])
                label = f"ImageRecordIter, preprocess_threads={threads}"
                if threads == "1" and rec.get("pil"):
                    vals["torch"] = bc.summarize(rec["pil"])
                    label += " (PyTorch column: PIL decode, 1 thread)"
                speed.append({"label": label, "unit": "images/s", "higher_is_better": True,
                              "values": vals})
        return [("Speed", speed), ("Peak resident memory of each run's process (VmHWM)", memory),
                ("Fraction of fp32 peak (conv + FC FLOPs; training = 3x forward)", peak)]


def threads_text(threads, torch_threads):
    t = bc.thread_env(threads)
    return (f"{threads} compute thread(s) for every framework: "
            f"OMP_NUM_THREADS={t['OMP_NUM_THREADS']} (mixnet's and MXNet's OpenMP kernels, "
            f"OpenBLAS), torch.set_num_threads({torch_threads}); engine workers "
            f"MIXNET_CPU_WORKER_NTHREADS=MXNET_CPU_WORKER_NTHREADS={bc.ENGINE_WORKERS}; "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; the dispatch row "
            "runs 1 compute thread; ImageRecordIter rows use preprocess_threads 1 and 2")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[4:]))
    p.add_argument("--quick", action="store_true", help="few repetitions: a fast sanity pass")
    p.add_argument("--only", action="append", default=[],
                   help="run only these rows (repeatable or comma-separated): "
                        + ", ".join(ROWS + list(ALIASES)))
    p.add_argument("--rounds", type=int, help="processes per (framework, workload), alternating "
                   "the framework order (default 2; 1 with --quick)")
    p.add_argument("--threads", type=int, default=bc.COMPUTE_THREADS,
                   help="compute threads of every framework (default %(default)s: the cores of "
                        "the development machine; 1 avoids OpenMP barrier stalls on a machine "
                        "shared with other jobs)")
    p.add_argument("--mxnet-python", default=default_mxnet_python())
    p.add_argument("--json", help="results file (default: benchmarks/results/latest.json for a "
                   "full run, benchmarks/results/quick.json otherwise)")
    p.add_argument("--markdown", help="Markdown table (default: docs/benchmarks.md for a full run,"
                   " none otherwise)")
    p.add_argument("--note", help="a line for the Markdown page (e.g. 'shared machine, noisy')")
    p.add_argument("--peak-gflops", type=float, help="the machine's fp32 peak (default: measured)")
    args = p.parse_args(argv)
    rows = []
    for item in args.only:
        for name in item.split(","):
            if name not in ROWS and name not in ALIASES:
                p.error(f"--only: unknown row {name!r}; rows are {', '.join(ROWS + list(ALIASES))}")
            rows += ALIASES.get(name, [name])
    args.rows = [r for r in ROWS if r in rows] if rows else list(ROWS)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    full = not args.quick and not args.only
    results = os.path.join(ROOT, "benchmarks", "results")
    if args.json is None:
        args.json = os.path.join(results, "latest.json" if full else "quick.json")
    if args.markdown is None and full:
        args.markdown = os.path.join(ROOT, "docs", "benchmarks.md")
    args.dated = full
    return args


def main(argv=None):
    args = parse_args(argv)
    command = os.environ.get("MIXNET_BENCH_COMMAND") or " ".join(
        ["python", "benchmarks/suite.py"] + sys.argv[1:])
    suite = Suite(args)
    suite.check_peers()
    peak = ({"gflops": args.peak_gflops, "per_core": args.peak_gflops / args.threads,
             "how": "given by --peak-gflops"} if args.peak_gflops else
            measure_peak(args.threads))
    print(f"mixnet benchmark suite: {bc.machine_info()['cpu']}, {bc.utc_now()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in suite.versions.items()))
    print("threads: " + threads_text(args.threads, args.threads))
    print(f"fp32 peak: {peak['gflops']:.0f} GFLOP/s ({peak['how']})")
    for s in suite.skipped:
        print("skipped: " + s)
    for row in args.rows:
        print(f"\n== {row}", flush=True)
        if row == "dispatch":
            suite.run_dispatch()
        elif row == "recordio":
            suite.run_recordio()
        else:
            suite.run_model(row)
    sections = suite.sections(peak["gflops"])
    peers = [fw for fw in PEERS if suite.available.get(fw)]
    print()
    print(bc.render_text(sections, peers, NAMES))
    torch_threads = next((v.get("torch_threads") for w in suite.raw.values()
                          for v in (w.values() if isinstance(w, dict) else [])
                          if isinstance(v, dict) and "torch_threads" in v), args.threads)
    notes = [f"Models match: {w} has {next(iter(v.values()))['params']:,} trainable parameters "
             "in every framework" for w, v in suite.raw.items() if w in MODELS and v]
    notes.append("Ratios: peer time / mixnet time (throughput: mixnet / peer; memory: peer / "
                 "mixnet); above 1 means mixnet is faster or smaller.")
    notes.append(f"LSTM: vocabulary {bc.LSTM_VOCAB}, embedding {bc.LSTM_EMBED}, "
                 f"{bc.LSTM_LAYERS} layers of {bc.LSTM_HIDDEN}, bptt {bc.LSTM_BPTT}, batch "
                 f"{bc.LSTM_BATCH}, SGD with global-norm clipping {bc.LSTM_CLIP}; random tokens; "
                 "Gluon's fused rnn.LSTM vs torch nn.LSTM.")
    notes.append("Each (framework, workload) ran in its own process "
                 f"{args.rounds} time(s), alternating the framework order; memory is that "
                 "process's VmHWM (framework import and warm-up included).")
    report = {"command": command, "date": bc.utc_now(), "machine": bc.machine_info(),
              "versions": suite.versions, "threads": bc.thread_env(args.threads),
              "threads_text": threads_text(args.threads, torch_threads), "peak": peak,
              "quick": args.quick,
              "rounds": args.rounds, "rows_run": args.rows, "note": args.note,
              "skipped": suite.skipped, "failures": suite.failures, "notes": notes,
              "sections": [{"title": t, "rows": r} for t, r in sections], "raw": suite.raw}
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    written = [args.json]
    if args.dated:
        stamp = report["date"].replace(" UTC", "").replace(" ", "T").replace(":", "")
        dated = os.path.join(os.path.dirname(args.json), f"{stamp}.json")
        shutil.copyfile(args.json, dated)
        written.append(dated)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(bc.render_markdown(report, sections, peers, NAMES))
        written.append(args.markdown)
    for fail in suite.failures:
        print("FAILED: " + fail)
    print("wrote " + ", ".join(os.path.relpath(w, ROOT) for w in written))
    return 1 if suite.failures else 0


if __name__ == "__main__":
    sys.exit(main())
