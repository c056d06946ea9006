"""Does a training loop wait on data? A hybridized Gluon LeNet trains on FashionMNIST (batch
128, SGD) fed by gluon.data.DataLoader with transform_first(Compose([ToTensor(), Normalize()]));
the time spent blocked in the loader's next() is measured against the whole step.

    python benchmarks/dataloader_wait.py [--batches 150] [--workers 0 1 2]

Each step ends with loss.asscalar(), so compute is counted in the step it belongs to. Prints,
per num_workers, the median step time, the median and total time waiting for data, and the
share of the loop spent waiting. Needs Debian's dataset-fashion-mnist.
"""
import argparse
import os
import statistics
import sys
import time

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon.data.vision import FashionMNIST, transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads_gluon  # noqa: E402  (the suite's LeNet)


def run(workers, batches, batch_size):
    mx.random.seed(0)
    data = FashionMNIST(train=True).transform_first(
        transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.286, 0.353)]))
    loader = gluon.data.DataLoader(data, batch_size=batch_size, shuffle=True,
                                   num_workers=workers, last_batch="discard")
    net = workloads_gluon.lenet(mx)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    waits, steps = [], []
    it = iter(loader)
    for i in range(batches + 5):
        t0 = time.perf_counter()
        x, y = next(it)
        t1 = time.perf_counter()
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch_size)
        loss.mean().asscalar()
        t2 = time.perf_counter()
        if i >= 5:  # warm-up: threads starting, the graph traced
            waits.append(t1 - t0)
            steps.append(t2 - t0)
    return statistics.median(steps), statistics.median(waits), sum(waits), sum(steps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    print(f"LeNet training on FashionMNIST, batch {args.batch_size}, {args.batches} steps")
    print(f"{'workers':>8} {'step ms':>9} {'wait ms (median)':>17} {'waiting share':>14}")
    for w in args.workers:
        step, wait, wait_total, total = run(w, args.batches, args.batch_size)
        print(f"{w:>8} {step * 1e3:>9.2f} {wait * 1e3:>17.3f} {wait_total / total:>13.1%}")


if __name__ == "__main__":
    main()
