"""The main job: train a Gluon network on Fashion-MNIST, with a progress bar per epoch, a
summary line per epoch, an exported checkpoint and a training-curve PNG.

    python -m mixnet.examples.fashion_mnist                      # LeNet, 12 epochs, > 0.91
    python -m mixnet.examples.fashion_mnist --model resnet --epochs 2
    python -m mixnet.examples.fashion_mnist --epochs 1 --max-batches 20 --output-dir /tmp/out

The same program as the C++ build/examples/fashion_mnist (examples/fashion_mnist.cc): the same
flags, defaults, models, recipe and printed lines. Written with MXNet 1.x's Python Gluon API
as an MXNet user would: gluon.data.vision.FashionMNIST + transforms + DataLoader,
autograd.record, gluon.Trainer, mx.metric. The data are Debian's dataset-fashion-mnist files
(/usr/share/datasets/fashion-mnist); nothing is downloaded.

Recipe: SGD (lr 0.05, momentum 0.9, weight decay 1e-4) with the rate cosine-annealed to 0
over the run, batch 128, training images mirrored left-right at random. LeNet is MXNet's
classic (Conv 5x5x20, MaxPool, Conv 5x5x50, MaxPool, Dense 500, Dense 10) with BatchNorm
after each convolution and Dropout 0.5 before the classifier, which takes it past 0.91 in 12
epochs (NOTE [ LeNet recipe ] in examples/fashion_mnist.cc).

Output in --output-dir: fashion_mnist_<model>-symbol.json and -NNNN.params (HybridBlock.export,
MXNet's format: gluon.SymbolBlock.imports loads them, here and in MXNet 1.x),
fashion_mnist_<model>-curves.png (loss and accuracy per epoch, drawn by mx.viz) and
fashion_mnist_<model>-history.csv.
"""
import argparse
import csv
import os
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon import nn
from mixnet.gluon.data.vision import FashionMNIST, transforms
from mixnet.gluon.model_zoo import vision


def lenet():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(20, kernel_size=5), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(50, kernel_size=5), nn.BatchNorm(), nn.Activation("relu"),
                nn.MaxPool2D(pool_size=2, strides=2),
                nn.Dense(500, activation="relu"), nn.Dropout(0.5), nn.Dense(10))
    return net


def mlp():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"), nn.Dense(128, activation="relu"), nn.Dense(10))
    return net


def make_net(model):
    if model == "lenet":
        return lenet()
    if model == "mlp":
        return mlp()
    # The zoo's ResNetV1, thin for 28x28 images: a 3x3 stem (thumbnail) and three stages of two
    # BasicBlockV1 (16, 32, 64 channels), as examples/fashion_mnist.cc builds it.
    return vision.ResNetV1(vision.BasicBlockV1, [2, 2, 2], [16, 16, 32, 64], classes=10,
                           thumbnail=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m mixnet.examples.fashion_mnist",
        description="Train a Gluon network on Fashion-MNIST (progress bar, per-epoch summary, "
                    "exported checkpoint, training-curve PNG).")
    p.add_argument("--model", choices=["mlp", "lenet", "resnet"], default="lenet")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--hybridize", type=int, choices=[0, 1], default=1)
    p.add_argument("--no-hybridize", dest="hybridize", action="store_const", const=0,
                   help="same as --hybridize 0")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--output-dir", default="output")
    p.add_argument("--max-batches", type=int, default=0,
                   help="limit each training epoch to its first N batches (0: all)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or not args.lr > 0 or args.max_batches < 0:
        p.error("need --epochs >= 1, --batch-size >= 1, --lr > 0, --max-batches >= 0")
    return args


def evaluate(net, loader):
    """Accuracy on `loader`'s data (predict mode: no recording)."""
    acc = mx.metric.Accuracy()
    for data, label in loader:
        acc.update([label], [net(data)])
    return acc.get()[1]


def save_history(prefix, title, history):
    mx.viz.plot_curves(prefix + "-curves.png",
                       {"loss": {"train loss": [h["train_loss"] for h in history]},
                        "accuracy": {"train acc": [h["train_acc"] for h in history],
                                     "test acc": [h["test_acc"] for h in history]}},
                       title=title, ylabels={"loss": "cross-entropy", "accuracy": "accuracy"})
    fields = ["epoch", "train_loss", "train_acc", "test_acc", "seconds", "samples_per_s"]
    with open(prefix + "-history.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(fields)
        for i, h in enumerate(history, 1):
            w.writerow([i, f"{h['train_loss']:.6f}", f"{h['train_acc']:.6f}",
                        f"{h['test_acc']:.6f}", f"{h['seconds']:.3f}",
                        f"{h['samples_per_s']:.1f}"])


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    mx.random.seed(args.seed)
    np.random.seed(args.seed)  # the DataLoader's shuffle (RandomSampler) draws from NumPy
    train_data = FashionMNIST(root=args.data_dir, train=True).transform_first(
        transforms.Compose([transforms.RandomFlipLeftRight(), transforms.ToTensor()]))
    test_data = FashionMNIST(root=args.data_dir, train=False).transform_first(
        transforms.ToTensor())
    train_loader = gluon.data.DataLoader(train_data, batch_size=args.batch_size, shuffle=True,
                                         last_batch="discard")
    test_loader = gluon.data.DataLoader(test_data, batch_size=args.batch_size, shuffle=False)

    net = make_net(args.model)
    net.initialize(mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3))
    net(mx.nd.zeros((1, 1, 28, 28)))  # completes the deferred initialisation
    if args.hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    if args.hybridize:
        loss_fn.hybridize()

    steps = len(train_loader)
    if 0 < args.max_batches < steps:
        steps = args.max_batches
    schedule = mx.lr_scheduler.CosineScheduler(max_update=args.epochs * steps, base_lr=args.lr,
                                               final_lr=0.0)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": 0.9, "wd": 0.0001,
                             "lr_scheduler": schedule})
    num_params = sum(p.data().size for p in net.collect_params().values())
    print(f"model: {args.model} ({'hybridized' if args.hybridize else 'imperative'}), "
          f"{num_params} parameters")
    print(f"data: {len(train_data)} train / {len(test_data)} test images from {args.data_dir}")
    print(f"sgd lr {args.lr:g} (cosine) momentum 0.9 wd 0.0001, batch {args.batch_size}, "
          f"{args.epochs} epochs, {steps} batches/epoch, seed {args.seed}", flush=True)

    history = []
    for epoch in range(1, args.epochs + 1):
        tic = time.time()
        bar = mx.viz.ProgressBar(steps, prefix=f"epoch {epoch}/{args.epochs}")
        train_loss, train_acc = mx.metric.Loss(), mx.metric.Accuracy()
        # A step's outputs are read by the metrics one step later, once the next step is
        # queued, so that the engine never waits for Python.
        pending = None
        done = 0
        for data, label in train_loader:
            if done == steps:
                break
            with autograd.record():
                out = net(data)
                loss = loss_fn(out, label)
            loss.backward()
            trainer.step(args.batch_size)
            if pending is not None:
                train_loss.update(None, [pending[2]])
                train_acc.update([pending[0]], [pending[1]])
                bar.update(done, done * args.batch_size,
                           {"loss": train_loss.get()[1], "acc": train_acc.get()[1]})
            pending = (label, out, loss)
            done += 1
        train_loss.update(None, [pending[2]])
        train_acc.update([pending[0]], [pending[1]])
        bar.update(done, done * args.batch_size,
                   {"loss": train_loss.get()[1], "acc": train_acc.get()[1]})
        bar.finish()
        train_s = time.time() - tic
        test_acc = evaluate(net, test_loader)
        seconds = time.time() - tic
        n = done * args.batch_size
        history.append({"train_loss": train_loss.get()[1], "train_acc": train_acc.get()[1],
                        "test_acc": test_acc, "seconds": seconds, "samples_per_s": n / train_s})
        h = history[-1]
        print(f"epoch {epoch}/{args.epochs}: train loss {h['train_loss']:.4f}, train acc "
              f"{h['train_acc']:.4f}, test acc {test_acc:.4f}, {seconds:.1f} s, "
              f"{h['samples_per_s']:.0f} samples/s", flush=True)

    # export needs a traced graph: an imperative run is hybridized for one predict-mode call.
    if not args.hybridize:
        net.hybridize()
    net(next(iter(test_loader))[0]).wait_to_read()
    os.makedirs(args.output_dir, exist_ok=True)
    prefix = os.path.join(args.output_dir, f"fashion_mnist_{args.model}")
    symbol_file, params_file = net.export(prefix, epoch=args.epochs)
    save_history(prefix, f"fashion_mnist {args.model}", history)
    print(f"final test accuracy: {history[-1]['test_acc']:.4f} ({args.epochs} epochs, "
          f"{time.time() - t_start:.1f} s in all)")
    print(f"saved {symbol_file}, {params_file}, {prefix}-curves.png, {prefix}-history.csv",
          flush=True)
    return history


if __name__ == "__main__":
    main()
