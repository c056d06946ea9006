"""Data-parallel training on Fashion-MNIST through a KVStore: several devices in one process,
several worker processes (dist_sync over MPI), or parameter servers (dist_async over ZeroMQ).

    python -m mixnet.examples.distributed --kvstore device --contexts 2
    python -m mixnet.tools.launch -n 2 python -m mixnet.examples.distributed --kvstore dist_sync
    python -m mixnet.tools.launch -n 2 -s 1 python -m mixnet.examples.distributed \\
        --kvstore dist_async

The way an MXNet 1.x user writes it: the store's rank and num_workers shard the training set
(Dataset.shard), each worker splits its part of the batch over its contexts
(gluon.utils.split_and_load), and gluon.Trainer reduces the gradients through the store.
--batch-size is the global batch: with dist_sync every step sums the gradients of all workers'
slices, so the run follows the same trajectory as one process on the whole batch; with
dist_async every worker's push is applied by the servers on its own (the optimizer runs there),
so each worker normalises by its own slice and the rate is divided by the number of workers
(num_workers updates, each from a smaller batch, take the place of one synchronous step).

Rank 0 prints the progress; every worker evaluates the test set after each epoch. With
dist_sync the script ends by checking, through the store, that every worker holds the same
parameters.
"""
import argparse
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon import nn
from mixnet.gluon.data.vision import FashionMNIST, transforms


def make_net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(16, kernel_size=5, activation="relu"),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dense(10))
    return net


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m mixnet.examples.distributed",
        description="Data-parallel training on Fashion-MNIST through a KVStore.")
    p.add_argument("--kvstore", default="device",
                   help="local, device, dist_sync, dist_device_sync or dist_async")
    p.add_argument("--contexts", type=int, default=1,
                   help="CPU contexts per process (cpu(0) .. cpu(N-1))")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128, help="the global batch")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--max-batches", type=int, default=0, help="stop each epoch after N batches")
    p.add_argument("--tiny", action="store_true", help="1 epoch of 20 batches")
    args = p.parse_args(argv)
    if args.tiny:
        args.epochs, args.max_batches = 1, 20
    return args


def evaluate(net, loader, ctx):
    acc = mx.metric.Accuracy()
    for data, label in loader:
        acc.update([label], [net(data.as_in_context(ctx))])
    return acc.get()[1]


def same_on_all_workers(kv, net):
    """Pushes every worker's parameter checksum: the sum equals num_workers times this
    worker's own exactly when all hold the same values (checked for each worker)."""
    mine = sum(float(p.data().asnumpy().astype(np.float64).sum())
               for p in net.collect_params().values())
    key = "examples.distributed.checksum"
    kv.init(key, mx.nd.zeros((1,), dtype="float64"))
    out = mx.nd.zeros((1,), dtype="float64")
    kv.pushpull(key, mx.nd.array([mine], dtype="float64"), out=out)
    return abs(out.asscalar() - kv.num_workers * mine) <= 1e-9 * max(1.0, abs(mine))


def main(argv=None):
    args = parse_args(argv)
    kv = mx.kv.create(args.kvstore)
    rank, workers = kv.rank, kv.num_workers
    ctxs = [mx.cpu(i) for i in range(args.contexts)]
    dist_async = "async" in kv.type
    local_batch = args.batch_size // workers
    if local_batch < len(ctxs):
        raise ValueError(f"--batch-size {args.batch_size} gives {local_batch} samples per worker "
                         f"for {workers} workers, fewer than the {len(ctxs)} contexts")
    mx.random.seed(args.seed)
    np.random.seed(args.seed + rank)  # each worker shuffles its own shard differently

    train = FashionMNIST(root=args.data_dir, train=True).shard(workers, rank)
    train = train.transform_first(transforms.ToTensor())
    test = FashionMNIST(root=args.data_dir, train=False).transform_first(transforms.ToTensor())
    train_loader = gluon.data.DataLoader(train, batch_size=local_batch, shuffle=True,
                                         last_batch="discard")
    test_loader = gluon.data.DataLoader(test, batch_size=256)

    net = make_net()
    net.initialize(mx.init.Xavier(), ctx=ctxs)
    net(mx.nd.zeros((1, 1, 28, 28), ctx=ctxs[0]))
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    # The store's init + pull gives every context and every worker rank 0's parameters.
    lr = args.lr / workers if dist_async else args.lr
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr, "momentum": 0.9},
                            kvstore=kv)
    steps = len(train_loader)
    if 0 < args.max_batches < steps:
        steps = args.max_batches
    if rank == 0:
        print(f"kvstore {kv.type}: {workers} worker(s) x {len(ctxs)} context(s), global batch "
              f"{local_batch * workers}, {steps} batches/epoch per worker, sgd lr {lr:g} "
              "momentum 0.9", flush=True)

    for epoch in range(1, args.epochs + 1):
        tic = time.time()
        bar = mx.viz.ProgressBar(steps, prefix=f"epoch {epoch}/{args.epochs}") if rank == 0 \
            else None
        train_loss = mx.metric.Loss()
        done = 0
        for data, label in train_loader:
            if done == steps:
                break
            datas = gluon.utils.split_and_load(data, ctxs, even_split=False)
            labels = gluon.utils.split_and_load(label, ctxs, even_split=False)
            with autograd.record():
                losses = [loss_fn(net(x), y) for x, y in zip(datas, labels)]
            autograd.backward(losses)
            trainer.step(local_batch if dist_async else local_batch * workers)
            train_loss.update(None, losses)
            done += 1
            if bar is not None:
                bar.update(done, done * local_batch * workers, {"loss": train_loss.get()[1]})
        if bar is not None:
            bar.finish()
        test_acc = evaluate(net, test_loader, ctxs[0])
        print(f"worker {rank}: epoch {epoch}/{args.epochs}: train loss "
              f"{train_loss.get()[1]:.4f}, test acc {test_acc:.4f}, "
              f"{time.time() - tic:.1f} s", flush=True)
    kv.barrier()
    if "dist" in kv.type and not dist_async:
        same = same_on_all_workers(kv, net)
        print(f"worker {rank}: parameters identical on all {workers} workers: "
              f"{'yes' if same else 'NO'}", flush=True)
        if not same:
            raise SystemExit(1)
    if rank == 0:
        print(f"final test accuracy: {test_acc:.4f}", flush=True)
    return test_acc


if __name__ == "__main__":
    main()
