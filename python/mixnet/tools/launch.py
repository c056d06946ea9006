"""Launch a distributed job: MXNet 1.x's tools/launch.py.

    python -m mixnet.tools.launch -n 2 python train.py --kv-store dist_sync
    python -m mixnet.tools.launch -n 2 -s 2 python train.py --kv-store dist_async
    python -m mixnet.tools.launch -n 4 --launcher mpi -H hosts python train.py

Every process gets MXNet's (ps-lite's) environment: DMLC_ROLE (worker, server or scheduler),
DMLC_PS_ROOT_URI and DMLC_PS_ROOT_PORT (the scheduler's address: 127.0.0.1 and a free port for
--launcher local), DMLC_NUM_WORKER, DMLC_NUM_SERVER, and DMLC_WORKER_ID / DMLC_SERVER_ID. With
-s > 0 one scheduler and the servers run the same command (importing mixnet with those roles
runs the dist_async server loop and exits), on this host.

Workers:
- ``local`` (default): all on this host, under ``mpirun -np N`` when mpirun exists (loopback
  only; dist_sync needs MPI), else as plain processes (enough for dist_async).
- ``mpi``: ``mpirun -np N --hostfile HOSTFILE``; mpirun reaches the hosts through its own ssh
  agent. This is the way to run dist_sync on several machines.
- ``ssh``: each worker started with ``ssh HOST`` (hosts of HOSTFILE in turn, one name per line;
  the working directory must exist there). Without MPI the workers cannot run dist_sync: use it
  for dist_async, and ``--launcher mpi`` for dist_sync.

Supervision: when any process exits with a non-zero status or is killed, everything this
launcher started is stopped (process groups: SIGTERM, then SIGKILL), a line says which process
and why ("launch: worker rank 1 was killed by signal 9 (SIGKILL); stopping the job"), and the
launcher exits non-zero. ``--timeout SECONDS`` stops the job the same way when it runs longer.

Differences from MXNet: the yarn/sge launchers are not provided; dist_sync workers talk MPI
(allreduce) instead of going through the servers, so a dist_sync job needs no -s.
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

__all__ = ["parse_args", "main", "free_port", "mpirun_command"]

# Loopback-only transport for local jobs (no interface scan, no network needed).
_MPI_LOOPBACK = ["--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", "lo",
                 "--mca", "oob_tcp_if_include", "lo"]
# What OpenMPI 4 prints on stderr when a rank dies or fails.
_MPI_SIGNAL = re.compile(r"process rank (\d+) with PID \d+ on node (\S+) exited on signal (\d+)")
_MPI_EXIT = re.compile(r"Process name:\s*\[\[\d+,\d+\],(\d+)\]\s*\n\s*Exit code:\s*(\d+)")
_GRACE_S = 3.0  # between SIGTERM and SIGKILL when stopping the job


def parse_args(argv=None):
    """MXNet's arguments (-n, -s, --launcher, -H), plus --timeout and --env."""
    p = argparse.ArgumentParser(
        prog="python -m mixnet.tools.launch",
        description="Launch a distributed job (MXNet's tools/launch.py).")
    p.add_argument("-n", "--num-workers", required=True, type=int, help="number of workers")
    p.add_argument("-s", "--num-servers", type=int, default=0,
                   help="number of servers (dist_async); 0 for dist_sync")
    p.add_argument("--launcher", choices=["local", "mpi", "ssh"], default="local",
                   help="how workers are started")
    p.add_argument("-H", "--hostfile", help="hosts, one per line (mpi, ssh)")
    p.add_argument("--host-ip", help="address of this host as the others see it "
                   "(DMLC_PS_ROOT_URI; default 127.0.0.1 for local, else this host's name)")
    p.add_argument("--timeout", type=float, default=0,
                   help="stop the job after this many seconds (0: no limit)")
    p.add_argument("--env", action="append", default=[], metavar="K=V",
                   help="environment variable for every process (repeatable)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command every process runs")
    args = p.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        p.error("no command given")
    if args.num_workers < 1 or args.num_servers < 0:
        p.error("-n must be >= 1 and -s >= 0")
    if args.launcher == "ssh" and not args.hostfile:
        p.error("--launcher ssh needs -H HOSTFILE")
    for kv in args.env:
        if "=" not in kv:
            p.error(f"--env {kv!r}: expected K=V")
    return args


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` now (the scheduler binds it shortly after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _hosts(path):
    with open(path) as f:
        hosts = [line.split()[0] for line in f if line.strip() and not line.startswith("#")]
    if not hosts:
        raise SystemExit(f"launch: hostfile {path} lists no host")
    return hosts


def mpirun_command(num_workers, command, env, hostfile=None, mpirun="mpirun"):
    """The mpirun command line running `command` as `num_workers` ranks: DMLC_* variables
    passed with -x, DMLC_WORKER_ID per rank (one app context per rank), loopback transport
    unless a hostfile is given."""
    cmd = [mpirun, "--oversubscribe"]
    if hostfile:
        cmd += ["--hostfile", hostfile]
    else:
        cmd += _MPI_LOOPBACK
    for k in sorted(env):
        cmd += ["-x", k]  # the value comes from mpirun's own environment
    for rank in range(num_workers):
        if rank:
            cmd.append(":")
        cmd += ["-np", "1", "-x", f"DMLC_WORKER_ID={rank}"] + list(command)
    return cmd


def _signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


class _Job:
    """The processes of one job, each in its own process group."""

    def __init__(self):
        self.procs = []  # (name, Popen, is_mpirun)
        self.mpi_err = []  # mpirun's stderr lines (parsed for the failing rank)
        self.threads = []

    def start(self, name, cmd, env, mpi=False):
        stderr = subprocess.PIPE if mpi else None
        p = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=stderr)
        if mpi:  # copy mpirun's stderr through, keeping its lines to name a failed rank
            t = threading.Thread(target=self._pump, args=(p.stderr,), daemon=True)
            t.start()
            self.threads.append(t)
        self.procs.append((name, p, mpi))
        return p

    def _pump(self, stream):
        for raw in iter(stream.readline, b""):
            self.mpi_err.append(raw.decode(errors="replace"))
            sys.stderr.buffer.write(raw)
            sys.stderr.flush()

    def describe(self, name, p, mpi):
        """Why process `name` failed, in words."""
        rc = p.returncode
        if mpi:
            for t in self.threads:
                t.join(timeout=1.0)
            text = "".join(self.mpi_err)
            m = _MPI_SIGNAL.search(text)
            if m:
                sig = int(m.group(3))
                return (f"worker rank {m.group(1)} (host {m.group(2)}) was killed by signal "
                        f"{sig} ({_signal_name(sig)})")
            m = _MPI_EXIT.search(text)
            if m:
                return f"worker rank {m.group(1)} exited with status {m.group(2)}"
        if rc < 0:
            return f"{name} was killed by signal {-rc} ({_signal_name(-rc)})"
        return f"{name} exited with status {rc}"

    def stop(self):
        """SIGTERM to every live process group, SIGKILL to those left after a grace period."""
        live = [p for _, p, _ in self.procs if p.poll() is None]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in live:
                try:
                    os.killpg(p.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            deadline = time.monotonic() + _GRACE_S
            while live and time.monotonic() < deadline:
                live = [p for p in live if p.poll() is None]
                time.sleep(0.05)
        # A process group can outlive its leader (a worker's own children): clear it too.
        for _, p, _ in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            p.wait()


def _base_env(args, root_uri, port):
    env = dict(os.environ)
    env.update({
        "DMLC_PS_ROOT_URI": root_uri,
        "DMLC_PS_ROOT_PORT": str(port),
        "DMLC_NUM_WORKER": str(args.num_workers),
        "DMLC_NUM_SERVER": str(args.num_servers),
    })
    for kv in args.env:
        k, v = kv.split("=", 1)
        env[k] = v
    return env


def _start_workers(job, args, env):
    """Starts the workers; returns the processes the launcher waits for."""
    mpirun = shutil.which("mpirun")
    wenv = dict(env, DMLC_ROLE="worker")
    if args.launcher == "mpi" or (args.launcher == "local" and mpirun):
        if not mpirun:
            raise SystemExit("launch: --launcher mpi needs mpirun (apt-get install openmpi-bin)")
        if os.geteuid() == 0:  # OpenMPI refuses root unless told twice
            wenv.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        passed = [k for k in wenv if k.startswith(("DMLC_", "MIXNET_", "OMP_"))
                  and k != "DMLC_WORKER_ID"]
        passed += [kv.split("=", 1)[0] for kv in args.env]
        # mpirun's remote daemons start processes with a bare environment: forward the paths
        passed += [k for k in ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH") if k in wenv]
        hostfile = args.hostfile if args.launcher == "mpi" else None
        cmd = mpirun_command(args.num_workers, args.command, set(passed), hostfile, mpirun)
        return [job.start("mpirun", cmd, wenv, mpi=True)]
    procs = []
    hosts = _hosts(args.hostfile) if args.launcher == "ssh" else None
    user_keys = {kv.split("=", 1)[0] for kv in args.env}
    for rank in range(args.num_workers):
        renv = dict(wenv, DMLC_WORKER_ID=str(rank))
        cmd = args.command
        if hosts:
            exports = " ".join(f"{k}={shlex.quote(renv[k])}" for k in sorted(renv)
                               if k.startswith(("DMLC_", "MIXNET_", "OMP_"))
                               or k in user_keys)
            remote = f"cd {shlex.quote(os.getcwd())} && env {exports} {shlex.join(cmd)}"
            cmd = ["ssh", "-o", "StrictHostKeyChecking=no", hosts[rank % len(hosts)], remote]
        procs.append(job.start(f"worker rank {rank}", cmd, renv))
    return procs


def main(argv=None):
    args = parse_args(argv)
    local = args.launcher == "local"
    root_uri = args.host_ip or ("127.0.0.1" if local else socket.gethostbyname(socket.gethostname()))
    env = _base_env(args, root_uri, free_port("127.0.0.1" if local else ""))
    job = _Job()
    # SIGTERM / SIGINT to the launcher stop the whole job.
    stop_signal = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda num, _: stop_signal.append(num))
    try:
        if args.num_servers > 0:
            job.start("scheduler", args.command, dict(env, DMLC_ROLE="scheduler"))
            for i in range(args.num_servers):
                job.start(f"server {i}", args.command,
                          dict(env, DMLC_ROLE="server", DMLC_SERVER_ID=str(i)))
        workers = _start_workers(job, args, env)
        start = time.monotonic()
        while True:
            for name, p, mpi in job.procs:
                if p.poll() is not None and p.returncode != 0:
                    print(f"launch: {job.describe(name, p, mpi)}; stopping the job",
                          file=sys.stderr, flush=True)
                    return 1
            if all(p.poll() is not None for p in workers):
                break
            if stop_signal:
                print(f"launch: received {_signal_name(stop_signal[0])}; stopping the job",
                      file=sys.stderr, flush=True)
                return 128 + stop_signal[0]
            if args.timeout and time.monotonic() - start > args.timeout:
                print(f"launch: the job did not finish within --timeout {args.timeout:g} s; "
                      "stopping it", file=sys.stderr, flush=True)
                return 124
            time.sleep(0.05)
        # The workers are done: servers and the scheduler stop when the workers' stores close.
        deadline = time.monotonic() + 30
        while any(p.poll() is None for _, p, _ in job.procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        for name, p, mpi in job.procs:
            if p.poll() is None:
                print(f"launch: {name} still running 30 s after the workers finished; stopping it",
                      file=sys.stderr, flush=True)
                return 1
            if p.returncode != 0:
                print(f"launch: {job.describe(name, p, mpi)}", file=sys.stderr, flush=True)
                return 1
        return 0
    finally:
        job.stop()


if __name__ == "__main__":
    sys.exit(main())
