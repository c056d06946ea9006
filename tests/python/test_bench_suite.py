"""The benchmark suite's helpers (benchmarks/bench_common.py, benchmarks/suite.py): the FLOP
counter against a hand count, the table, Markdown and JSON writers, and a --quick smoke run.
Nothing here is timed: the suite measures, these tests only check that it computes and reports
correctly."""
import json
import os
import subprocess
import sys

import pytest

import mixnet as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_common as bc  # noqa: E402
import suite  # noqa: E402

# Conv2D(4, 3) on 3x8x8 -> 4x6x6, 2 * 144 outputs * 27 MACs; Dense(5) on the 144 flattened
# values, 2 * 5 * 144; per sample, whatever the batch.
TINY_FLOPS = 2 * 4 * 6 * 6 * (3 * 3 * 3) + 2 * 5 * (4 * 6 * 6)


def tiny_gluon_net():
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, in_channels=3, activation="relu"), nn.MaxPool2D(1, 1), nn.Flatten(),
            nn.Dense(5, in_units=144))
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros((2, 3, 8, 8))).wait_to_read()
    return net


def test_gluon_flops_match_hand_count():
    assert bc.gluon_flops(mx, tiny_gluon_net(), (2, 3, 8, 8)) == TINY_FLOPS


def test_torch_flops_match_hand_count():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(144, 5))
    assert bc.torch_flops(torch, net, torch.zeros(2, 3, 8, 8)) == TINY_FLOPS


def test_symbol_flops_grouped_convolution():
    # Hand-built MXNet JSON: a grouped 3x3 convolution (8 filters, 2 groups of 2 channels) on a
    # 4x5x5 input with padding 1, so each of 8*5*5 outputs does 2*3*3 MACs.
    graph = {"nodes": [{"op": "null", "name": "data", "inputs": []},
                       {"op": "null", "name": "w", "inputs": []},
                       {"op": "Convolution", "name": "conv",
                        "attrs": {"kernel": "(3, 3)", "num_filter": "8", "num_group": "2"},
                        "inputs": [[0, 0, 0], [1, 0, 0]]}]}
    flops = bc.symbol_flops(json.dumps(graph), {"data": (3, 4, 5, 5), "w": (8, 2, 3, 3)},
                            {"conv_output": (3, 8, 5, 5)}, batch=3)
    assert flops == 2 * 8 * 5 * 5 * 2 * 3 * 3


def test_summary_and_ratio():
    s = bc.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["q1"], s["q3"], s["n"]) == (3, 1, 5, 2, 4, 5)
    assert bc.summarize([7.0])["median"] == 7.0
    # throughput: mixnet rate / peer rate; time and memory: peer / mixnet
    assert bc.ratio(50.0, 100.0, higher_is_better=True) == 2.0
    assert bc.ratio(3.0, 1.5, higher_is_better=False) == 2.0
    assert bc.ratio(None, 1.0, higher_is_better=False) is None


def fake_suite():
    """A Suite whose raw results are made up (no child runs): the report code path alone."""
    args = suite.parse_args(["--only", "lenet,resnet50", "--json", os.devnull])
    s = suite.Suite(args)
    s.available = {"mixnet": True, "torch": True, "mxnet": False}
    s.versions = {"mixnet": "0.1.0", "PyTorch": "1.13"}
    s.skipped = ["MXNet 1.9.1: no interpreter at /nonexistent"]
    model = {"params": 10, "flops_per_sample": 1e9, "version": "x", "memory": {"vmhwm_mib": 100.0}}
    s.raw = {"lenet": {"mixnet": dict(model, metrics={"train": [100.0, 110.0, 90.0]}),
                       "torch": dict(model, metrics={"train": [50.0]},
                                     memory={"vmhwm_mib": 300.0})},
             "resnet50": {"mixnet": dict(model, metrics={"latency_b1": [10.0],
                                                         "throughput_b32": [40.0]})}}
    return s


def test_sections_tables_and_markdown(tmp_path):
    s = fake_suite()
    sections = dict(s.sections(peak_gflops=1000.0))
    speed = {r["label"]: r for r in sections["Speed"]}
    lenet = speed[suite.LABELS["lenet"]]
    assert lenet["values"]["mixnet"]["median"] == 100.0 and lenet["higher_is_better"]
    assert speed[suite.LABELS["resnet50_b1"]]["values"]["mixnet"]["median"] == 10.0
    peak = {r["label"]: r["values"] for r in sections[
        "Fraction of fp32 peak (conv + FC FLOPs; training = 3x forward)"]}
    # training: 3 x 1 GFLOP x 100 samples/s of 1000 GFLOP/s = 30%; inference b1: 1 GFLOP / 10 ms
    assert peak[suite.LABELS["lenet"]]["mixnet"]["median"] == pytest.approx(30.0)
    assert peak[suite.LABELS["resnet50_b1"]]["mixnet"]["median"] == pytest.approx(10.0)
    secs = s.sections(peak_gflops=1000.0)
    text = bc.render_text(secs, ["torch"], suite.NAMES)
    row = next(line for line in text.splitlines() if line.startswith(suite.LABELS["lenet"]))
    assert row.split()[-3:] == ["100", "50.0", "2.00x"]  # mixnet, PyTorch, PyTorch/mixnet
    report = {"command": "bash benchmarks/run.sh", "date": "2026-12-03 18:00 UTC",
              "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 8.0, "os": "Linux"},
              "versions": s.versions, "threads_text": suite.threads_text(2, 2),
              "peak": {"gflops": 1000.0, "how": "given"}, "note": "noisy", "skipped": s.skipped,
              "notes": ["a note"]}
    md = bc.render_markdown(report, secs, ["torch"], suite.NAMES)
    assert "Test CPU, 2 cores, 8.0 GiB" in md and "`bash benchmarks/run.sh`" in md
    assert "OMP_NUM_THREADS=2" in md and "Skipped: MXNet 1.9.1" in md and "Note: noisy" in md
    mem = next(line for line in md.splitlines() if line.startswith("| " + suite.LABELS["lenet"])
               and "MiB" in line)
    assert mem.endswith("| 100 | 300 | 3.00x |")  # torch uses 3x the memory
    path = tmp_path / "r.json"
    path.write_text(json.dumps(dict(report, sections=[{"title": t, "rows": r} for t, r in secs])))
    assert json.loads(path.read_text())["sections"][0]["rows"][0]["values"]["mixnet"]["n"] == 3


def test_only_expands_aliases_and_rejects_unknown_rows():
    assert suite.parse_args(["--only", "memory"]).rows == ["lenet", "lstm", "resnet18", "resnet50"]
    assert suite.parse_args(["--only", "dispatch", "--only", "peak"]).rows == [
        "dispatch", "lenet", "resnet18", "resnet50"]
    full = suite.parse_args([])
    assert full.rows == suite.ROWS and full.json.endswith("latest.json") and full.markdown
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "nope"])


def test_quick_dispatch_smoke(tmp_path):
    out = tmp_path / "quick.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "suite.py"), "--quick",
                        "--only", "dispatch", "--json", str(out), "--mxnet-python", "/nonexistent",
                        "--peak-gflops", "100"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = json.loads(out.read_text())
    assert any("MXNet 1.9.1: no interpreter" in s for s in report["skipped"])
    rows = report["sections"][0]["rows"]
    assert [row["unit"] for row in rows] == ["µs/call"] * 5
    assert all(row["values"]["mixnet"]["median"] > 0 for row in rows)
    assert "OMP_NUM_THREADS=2" in report["threads_text"]
