"""The distributed example (python -m mixnet.examples.distributed) on its --tiny setting: two
contexts in one process, two dist_sync workers (mpirun through the launcher) and two dist_async
workers with one server, on 127.0.0.1. Every job has a timeout and the launcher stops all of
its processes when one fails."""
import os
import re
import shutil
import subprocess
import sys

import pytest

DATA = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA), reason="dataset-fashion-mnist missing")


def run(*args, launch=None, timeout=90):
    cmd = [sys.executable, "-m", "mixnet.examples.distributed", "--tiny", *args]
    if launch:
        cmd = [sys.executable, "-m", "mixnet.tools.launch", *launch, "--timeout", str(timeout),
               *cmd]
    r = subprocess.run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True,
                       text=True, timeout=timeout + 30, check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    return out


def final_accuracy(out):
    m = re.search(r"final test accuracy: ([0-9.]+)", out)
    assert m, out[-2000:]
    return float(m.group(1))


def test_two_contexts_one_process():
    out = run("--kvstore", "device", "--contexts", "2")
    assert "kvstore device: 1 worker(s) x 2 context(s), global batch 128" in out
    assert final_accuracy(out) > 0.3


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not found")
def test_dist_sync_workers_hold_the_same_parameters():
    out = run("--kvstore", "dist_sync", launch=["-n", "2"])
    assert "kvstore dist_sync: 2 worker(s) x 1 context(s), global batch 128" in out
    for rank in (0, 1):
        assert f"worker {rank}: parameters identical on all 2 workers: yes" in out
    accs = re.findall(r"worker \d: epoch 1/1: .* test acc ([0-9.]+)", out)
    assert len(accs) == 2 and accs[0] == accs[1], out[-2000:]  # identical weights
    assert final_accuracy(out) > 0.3


def test_dist_async_with_a_server():
    out = run("--kvstore", "dist_async", launch=["-n", "2", "-s", "1"])
    assert "kvstore dist_async: 2 worker(s)" in out
    assert len(re.findall(r"worker \d: epoch 1/1", out)) == 2
    assert final_accuracy(out) > 0.3
