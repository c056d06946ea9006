"""dist_async: a scheduler, servers and workers as processes on 127.0.0.1, each running the same
script (importing mixnet runs the server and scheduler roles, as `import mxnet`). Every process
has a timeout and is killed (by pid) if it outlives it."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

import mixnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = os.path.join(HERE, "dist")

pytestmark = pytest.mark.skipif(not hasattr(mx._core, "_kvstore_run_server_role"),
                                reason="mixnet built without the dist_async binding")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_job(script, workers=2, servers=2, env=None, timeout=40):
    """Starts the scheduler, `servers` servers and `workers` workers running `script`; returns
    {name: (returncode, output)}. Kills whatever is still running after `timeout` seconds."""
    base = dict(os.environ)
    base.update({"DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(_free_port()),
                 "DMLC_NUM_WORKER": str(workers), "DMLC_NUM_SERVER": str(servers),
                 "OMP_NUM_THREADS": "1", "MIXNET_KVSTORE_TIMEOUT": "30",
                 "PYTHONUNBUFFERED": "1"})
    base.update(env or {})
    roles = [("scheduler", {})] + [(f"server{i}", {"DMLC_SERVER_ID": str(i)})
                                   for i in range(servers)]
    roles += [(f"worker{i}", {"DMLC_WORKER_ID": str(i)}) for i in range(workers)]
    procs = {}
    for name, extra in roles:
        e = dict(base, DMLC_ROLE=name.rstrip("0123456789"), **extra)
        procs[name] = subprocess.Popen([sys.executable, os.path.join(DIST, script)], env=e,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
    deadline = time.time() + timeout
    results = {}
    try:
        for name, p in procs.items():
            try:
                out, _ = p.communicate(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                out += f"\n[killed by the test after {timeout} s]"
            results[name] = (p.returncode, out)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


def _check_all_ok(results):
    for name, (rc, out) in results.items():
        assert rc == 0, f"{name} exited {rc}:\n{out[-3000:]}"


def test_push_pull_shards_and_server_optimizer(tmp_path):
    stats = str(tmp_path / "stats")
    res = _run_job("dist_async_kv.py", env={"MXNET_KVSTORE_BIGARRAY_BOUND": "1000",
                                            "MIXNET_KVSTORE_SERVER_STATS": stats})
    _check_all_ok(res)
    assert "OK rank 0" in res["worker0"][1] and "OK rank 1" in res["worker1"][1]
    # Key 9 (2000 elements) is split in two contiguous halves, one per server; key 3 lives on
    # one server; each server applied one push of key 9 per worker.
    per = [json.load(open(f"{stats}.{r}")) for r in range(2)]
    assert per[0]["keys"]["9"] == [0, 1000] and per[1]["keys"]["9"] == [1000, 1000]
    assert sum("3" in p["keys"] for p in per) == 1
    assert all(p["pushes"] >= 2 for p in per)


def test_gluon_trainer_converges():
    res = _run_job("dist_async_train.py")
    _check_all_ok(res)
    for w in ("worker0", "worker1"):
        assert " -> " in res[w][1], res[w][1]


def test_killed_worker_ends_the_job_with_a_clear_error():
    start = time.time()
    res = _run_job("dist_async_kill.py", timeout=30,
                   env={"MIXNET_KVSTORE_HEARTBEAT_INTERVAL": "0.2",
                        "MIXNET_KVSTORE_HEARTBEAT_TIMEOUT": "2"})
    elapsed = time.time() - start
    assert elapsed < 20, elapsed
    assert res["worker1"][0] == -9  # SIGKILL
    rc, out = res["worker0"]
    assert rc == 2 and "worker 1 sent no heartbeat" in out, out
    for name in ("scheduler", "server0", "server1"):
        rc, out = res[name]
        assert rc == 1 and "worker 1 sent no heartbeat" in out, f"{name} {rc}: {out}"
        assert "killed by the test" not in out


def test_launcher_runs_the_roles():
    """`python -m mixnet.tools.launch -n 2 -s 2` starts the scheduler and servers with the same
    command; `import mixnet` runs their roles and every process exits 0."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MXNET_KVSTORE_BIGARRAY_BOUND="1000",
               MIXNET_KVSTORE_TIMEOUT="30")
    r = subprocess.run([sys.executable, "-m", "mixnet.tools.launch", "-n", "2", "-s", "2",
                        "--launcher", "local", "--timeout", "40", sys.executable,
                        os.path.join(DIST, "dist_async_kv.py")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "OK rank 0" in r.stdout and "OK rank 1" in r.stdout, r.stdout
