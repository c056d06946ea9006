"""dist_sync / dist_device_sync over MPI, and the launcher (python -m mixnet.tools.launch).

Each test starts 2 or 4 worker processes on 127.0.0.1 through the launcher (mpirun underneath),
each running tests/python/dist/dist_sync_worker.py SCENARIO, which checks its own results; every
job has a timeout, and the launcher stops all of its processes when one fails.
"""
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "dist", "dist_sync_worker.py")
LAUNCH_SCRIPT = os.path.join(HERE, os.pardir, os.pardir, "tools", "launch.py")

pytestmark = pytest.mark.skipif(shutil.which("mpirun") is None,
                                reason="mpirun not found (apt-get install openmpi-bin)")


def launch(n, *command, timeout=40, env=None, launcher_args=(), script=False):
    """Runs the launcher (`python -m mixnet.tools.launch`, or with `script` tools/launch.py,
    which does not import mixnet); returns (returncode, stdout + stderr, seconds)."""
    full_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    launcher = [LAUNCH_SCRIPT] if script else ["-m", "mixnet.tools.launch"]
    cmd = [sys.executable, *launcher, "-n", str(n), *launcher_args,
           "--timeout", str(timeout), *command]
    start = time.monotonic()
    r = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout + 20,
                       check=False)
    return r.returncode, r.stdout + r.stderr, time.monotonic() - start


def run_scenario(name, n=2, **kw):
    rc, out, _ = launch(n, sys.executable, WORKER, name, **kw)
    assert rc == 0, out[-3000:]
    for r in range(n):
        assert f"OK {name} rank {r}" in out, out[-3000:]
    return out


def processes_with(token):
    """Pids of live processes whose command line holds `token`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.parametrize("n", [2, 4])
def test_push_pull_semantics(n):
    # init from rank 0, sum over workers, pushpull, str keys, devices summed first, optimizer
    run_scenario("semantics", n)


def test_training_equals_single_process():
    # Trainer on dist_sync (each rank its slice of the global batch, step(global batch)) gives
    # the parameters of single-process training; MNISTIter's num_parts/part_index shards
    run_scenario("train", 2)


def test_2bit_compression_bit_exact():
    run_scenario("compress", 2)


def test_failed_push_value_fails_every_worker():
    # an engine error in one worker's pushed value fails that push on every worker (no hang)
    run_scenario("badpush", 2)


def test_uneven_batch_counts_finish():
    run_scenario("uneven", 2)


def test_mismatched_keys_clear_error():
    out = run_scenario("mismatch", 2)
    assert "rank 0: allreduce of key 5" in out and "rank 1: allreduce of key 6" in out


@pytest.mark.parametrize("scenario,expect", [
    ("kill", ["launch: worker rank 1 (host", "was killed by signal 9 (SIGKILL); stopping the job"]),
    # an uncaught exception ends the job at once instead of joining the others until the end
    ("crash", ["worker 1 fails on purpose",
               "launch: worker rank 1 exited with status 1; stopping the job"]),
])
def test_failed_worker_stops_the_job(scenario, expect):
    token = f"dist-{scenario}-{uuid.uuid4().hex}"
    rc, out, secs = launch(2, sys.executable, WORKER, scenario, token, timeout=60)
    assert rc != 0
    for text in expect:
        assert text in out, out[-3000:]
    assert secs < 60
    time.sleep(0.2)
    assert processes_with(token) == []  # nothing left behind


def test_single_process_and_missing_launcher():
    # without a launcher dist_sync is one worker of one; DMLC_NUM_WORKER > 1 without mpirun
    # is a clear error
    code = ("import mixnet as mx\n"
            "kv = mx.kv.create('dist_sync')\n"
            "kv.init(0, mx.nd.ones((3,)))\n"
            "kv.push(0, mx.nd.ones((3,)) * 2)\n"
            "o = mx.nd.zeros((3,))\n"
            "kv.pull(0, out=o)\n"
            "print('RESULT', kv.rank, kv.num_workers, o.asnumpy().tolist())")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("DMLC_NUM_WORKER", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0 and "RESULT 0 1 [2.0, 2.0, 2.0]" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-c", code], env=dict(env, DMLC_NUM_WORKER="2"),
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode != 0
    assert "DMLC_NUM_WORKER=2 but this process was not started by mpirun" in r.stderr, r.stderr


def test_stalled_worker_hits_the_deadline():
    # rank 1 is alive but stops pushing: rank 0's push fails after MIXNET_KVSTORE_TIMEOUT
    rc, out, secs = launch(2, sys.executable, WORKER, "stall", env={"MIXNET_KVSTORE_TIMEOUT": "2"})
    assert rc != 0
    assert "allreduce of key 0 did not complete within 2 s" in out, out[-3000:]
    assert "launch: worker rank 0 exited with status 1" in out, out[-3000:]
    assert secs < 30


def test_launcher_environment_and_servers(tmp_path):
    # DMLC_* for every role; -s starts a scheduler and servers running the same command. Each
    # process writes its own file (their stdout lines could interleave).
    code = ("import os, sys, uuid\n"
            "e = os.environ\n"
            "line = ' '.join(str(e.get(k)) for k in ('DMLC_ROLE', 'DMLC_WORKER_ID',"
            " 'DMLC_SERVER_ID', 'DMLC_NUM_WORKER', 'DMLC_NUM_SERVER', 'DMLC_PS_ROOT_URI',"
            " 'DMLC_PS_ROOT_PORT', 'FOO'))\n"
            "open(os.path.join(sys.argv[1], uuid.uuid4().hex), 'w').write(line)")
    rc, out, _ = launch(2, sys.executable, "-c", code, str(tmp_path),
                        launcher_args=("-s", "1", "--env", "FOO=7"))
    assert rc == 0, out
    lines = sorted(p.read_text() for p in tmp_path.iterdir())
    port = lines[0].split()[-2]
    assert lines == [f"scheduler None None 2 1 127.0.0.1 {port} 7",
                     f"server None 0 2 1 127.0.0.1 {port} 7",
                     f"worker 0 None 2 1 127.0.0.1 {port} 7",
                     f"worker 1 None 2 1 127.0.0.1 {port} 7"], out


def test_launcher_without_mpirun_and_timeout(tmp_path):
    # Without mpirun the workers are plain processes; a failing one stops the others.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = {"PATH": str(bindir)}
    code = ("import os, time, sys\n"
            "if os.environ['DMLC_WORKER_ID'] == '1': sys.exit(3)\n"
            "time.sleep(30)")
    rc, out, secs = launch(2, sys.executable, "-c", code, env=env, script=True)
    assert rc == 1 and "launch: worker rank 1 exited with status 3; stopping the job" in out, out
    assert secs < 20
    rc, out, secs = launch(1, sys.executable, "-c", "import time; time.sleep(30)", timeout=1,
                           script=True)
    assert rc == 124 and "did not finish within --timeout 1 s" in out, out
    assert secs < 15
