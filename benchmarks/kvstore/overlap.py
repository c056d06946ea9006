"""Overlap of dist_sync communication with backward: one worker of a 2-worker job.

    python -m mixnet.tools.launch -n 2 python benchmarks/kvstore/overlap.py

An MLP (784-1024-1024-10, 1.9 M parameters, 7.5 MB of gradients) trains on random data with
gluon.Trainer(kvstore='dist_sync'). Three ways, medians of the step times:
- overlap: backward, then trainer.step at once: the Trainer pushes the last layer's gradient
  first, so its allreduce runs while backward still computes the earlier layers' gradients;
- serial: mx.nd.waitall() after backward (every gradient computed) before trainer.step;
- compute: the same on a store-less Trainer (kvstore=None), no communication at all.
Rank 0 prints one JSON line.
"""
import json
import os
import statistics
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon


def make_net():
    mx.random.seed(0)
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(1024, activation="relu", in_units=784),
            gluon.nn.Dense(1024, activation="relu", in_units=1024),
            gluon.nn.Dense(10, in_units=1024))
    net.initialize(mx.init.Xavier())
    return net


def run(dist, serial, steps, batch=64):
    kvstore = mx.kv.create("dist_sync") if dist else None  # a fresh store: keys init once
    net = make_net()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01},
                            kvstore=kvstore, update_on_kvstore=False if kvstore else None)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rs = np.random.RandomState(0)
    x = mx.nd.array(rs.randn(batch, 784).astype(np.float32))
    y = mx.nd.array(rs.randint(0, 10, batch).astype(np.float32))
    times = []
    for i in range(steps + 3):
        mx.nd.waitall()
        t0 = time.perf_counter()
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        if serial:
            mx.nd.waitall()
        trainer.step(batch * (kvstore.num_workers if kvstore else 1))
        mx.nd.waitall()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    steps = int(os.environ.get("OVERLAP_STEPS", "20"))
    kv = mx.kv.create("dist_sync")
    result = {"mode": "overlap", "ranks": kv.num_workers, "params": 784 * 1024 + 1024 * 1024 +
              1024 * 10 + 2058, "steps": steps}
    # alternate the two ways twice so that a slow phase of the shared machine hits both
    overlap, serial = [], []
    for _ in range(2):
        overlap.append(run(True, serial=False, steps=steps))
        serial.append(run(True, serial=True, steps=steps))
    result["overlap_ms"] = min(overlap)
    result["serial_ms"] = min(serial)
    result["compute_ms"] = run(False, serial=False, steps=steps)
    result["overlap_gain"] = result["serial_ms"] / result["overlap_ms"]
    kv.barrier()
    if kv.rank == 0:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
