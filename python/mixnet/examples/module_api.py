"""The symbolic API: a network built with mx.sym, trained and evaluated with mx.mod.Module, as
MXNet 1.x code did it.

    python -m mixnet.examples.module_api                  # LeNet, 3 epochs on Fashion-MNIST
    python -m mixnet.examples.module_api --network mlp
    python -m mixnet.examples.module_api --tiny           # a few seconds (CI)

The data comes from mx.io.MNISTIter over Debian's Fashion-MNIST idx files. The first epoch is
a hand-written loop over Module's intermediate API (bind, init_params, init_optimizer, then
forward_backward, update and update_metric per batch); the remaining epochs run through
Module.fit with mx.callback.Speedometer and mx.callback.do_checkpoint. The trained module is
then scored (accuracy, cross-entropy) and asked to predict the test set, saved with
save_checkpoint (OUTPUT_DIR/NETWORK-final-symbol.json, -NNNN.params; do_checkpoint wrote the
same as OUTPUT_DIR/NETWORK-NNNN.params) and loaded back with Module.load into a module bound
for inference, which must give the same predictions.
"""
import argparse
import logging
import os
import time

import numpy as np

import mixnet as mx

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--network", choices=["lenet", "mlp"], default="lenet")
    parser.add_argument("--data-dir", default=FASHION_MNIST)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--num-parts", type=int, default=1,
                        help="train and test on 1/N of the data (MNISTIter's num_parts)")
    parser.add_argument("--output-dir", default="module_api_out")
    parser.add_argument("--tiny", action="store_true",
                        help="a few seconds: an MLP on 1/30 of the data for 2 epochs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.network, args.num_parts, args.epochs = "mlp", 30, 2
    return args


def get_mlp():
    data = mx.sym.var("data")
    net = mx.sym.Flatten(data)
    net = mx.sym.FullyConnected(net, num_hidden=128, name="fc1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=64, name="fc2")
    net = mx.sym.Activation(net, act_type="relu", name="relu2")
    net = mx.sym.FullyConnected(net, num_hidden=10, name="fc3")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def get_lenet():
    data = mx.sym.var("data")
    net = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20, name="conv1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, pool_type="max", kernel=(2, 2), stride=(2, 2))
    net = mx.sym.Convolution(net, kernel=(5, 5), num_filter=50, name="conv2")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, pool_type="max", kernel=(2, 2), stride=(2, 2))
    net = mx.sym.Flatten(net)
    net = mx.sym.FullyConnected(net, num_hidden=500, name="fc1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.FullyConnected(net, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def get_iters(args):
    def it(split, shuffle):
        return mx.io.MNISTIter(image=os.path.join(args.data_dir, split + "-images-idx3-ubyte.gz"),
                               label=os.path.join(args.data_dir, split + "-labels-idx1-ubyte.gz"),
                               batch_size=args.batch_size, shuffle=shuffle,
                               flat=args.network == "mlp", num_parts=args.num_parts, part_index=0,
                               silent=True)
    return it("train", True), it("t10k", False)


def first_epoch_by_hand(mod, train_iter, metric):
    """Module's intermediate API: what fit() does for one epoch."""
    train_iter.reset()
    metric.reset()
    tic, n = time.time(), 0
    for batch in train_iter:
        mod.forward_backward(batch)
        mod.update()
        mod.update_metric(metric, batch.label)
        n += batch.data[0].shape[0]
    name, value = metric.get()
    print("Epoch[0] (hand-written loop) Train-%s=%f, %.0f samples/s"
          % (name, value, n / max(time.time() - tic, 1e-9)), flush=True)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mx.random.seed(42)
    os.makedirs(args.output_dir, exist_ok=True)
    prefix = os.path.join(args.output_dir, args.network)
    train_iter, val_iter = get_iters(args)
    net = get_lenet() if args.network == "lenet" else get_mlp()
    print("%s: arguments %s" % (args.network, net.list_arguments()))

    mod = mx.mod.Module(symbol=net, context=mx.cpu(), data_names=["data"],
                        label_names=["softmax_label"])
    mod.bind(data_shapes=train_iter.provide_data, label_shapes=train_iter.provide_label)
    mod.init_params(initializer=mx.init.Xavier(rnd_type="gaussian", factor_type="in",
                                               magnitude=2))
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": args.lr,
                                                          "momentum": 0.9, "wd": 1e-4})
    metric = mx.metric.create("acc")
    frequent = max(1, train_iter.num_samples // args.batch_size // 4)  # 4 speed lines an epoch
    tic = time.time()
    first_epoch_by_hand(mod, train_iter, metric)
    # The module is bound and initialised: fit() continues from its parameters and optimizer
    # (and warns that it skips bind/init). Like MXNet's, it resets the iterator only after
    # each epoch.
    train_iter.reset()
    mod.fit(train_iter, eval_data=val_iter, eval_metric="acc", begin_epoch=1,
            num_epoch=args.epochs,
            batch_end_callback=mx.callback.Speedometer(args.batch_size, frequent),
            epoch_end_callback=mx.callback.do_checkpoint(prefix))
    print("Training took %.1f s" % (time.time() - tic))

    scores = dict(mod.score(val_iter, ["acc", "ce"]))
    print("Test accuracy %.4f, cross-entropy %.4f" % (scores["accuracy"], scores["cross-entropy"]))
    probs = mod.predict(val_iter).asnumpy()
    val_iter.reset()
    labels = np.concatenate([b.label[0].asnumpy() for b in val_iter])
    print("Predicted %d test images: accuracy %.4f from mod.predict"
          % (len(probs), (probs.argmax(axis=1) == labels).mean()))

    # do_checkpoint wrote PREFIX-NNNN.params after each fit epoch; save_checkpoint writes the
    # same files on demand. Either loads back with Module.load into a module for inference.
    final = prefix + "-final"
    mod.save_checkpoint(final, args.epochs)
    loaded = mx.mod.Module.load(final, args.epochs, data_names=["data"],
                                label_names=["softmax_label"])
    loaded.bind(data_shapes=val_iter.provide_data, label_shapes=val_iter.provide_label,
                for_training=False)
    probs2 = loaded.predict(val_iter).asnumpy()
    print("Reloaded %s-symbol.json and %s-%04d.params: test accuracy %.4f, largest "
          "difference from the trained module's probabilities %.2g"
          % (final, final, args.epochs, (probs2.argmax(axis=1) == labels).mean(),
             np.abs(probs2 - probs).max()))
    with open("%s-%04d.params" % (prefix, args.epochs), "rb") as a, \
            open("%s-%04d.params" % (final, args.epochs), "rb") as b:
        print("do_checkpoint's %s-%04d.params is the same file: %s"
              % (prefix, args.epochs, a.read() == b.read()))
    return scores["accuracy"]


if __name__ == "__main__":
    main()
