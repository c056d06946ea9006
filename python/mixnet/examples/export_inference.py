"""Export a trained Gluon model and load it back for inference, with gluon.SymbolBlock and with
mx.mod.Module (MXNet 1.x's two ways), as examples/predict.cc does in C++.

    python -m mixnet.examples.export_inference                        # train, export, predict
    python -m mixnet.examples.export_inference --checkpoint out/lenet --epoch 10
    python -m mixnet.examples.export_inference --tiny                 # a few seconds (CI)

Without --checkpoint a small convolutional network is trained on Fashion-MNIST (inputs are
pixel / 255, NCHW, as the C++ programs read them), hybridized and exported with
HybridBlock.export to OUTPUT_DIR/model-symbol.json and OUTPUT_DIR/model-NNNN.params. The export
(or the given one, e.g. the main job's) is then loaded twice: gluon.SymbolBlock.imports, and
mx.model.load_checkpoint + mx.mod.Module bound with for_training=False. Both predict the test
set; the example prints the top-1 class of a few test images, the test accuracy of each, and
the largest difference between their outputs. --save-inputs/--save-outputs write the first
--num-save test images and the SymbolBlock's outputs for them as .nd files (mx.nd.save), which
build/examples/predict can read and compare with.
"""
import argparse
import os
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon import nn

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=FASHION_MNIST)
    parser.add_argument("--checkpoint", default=None,
                        help="PREFIX of an existing export (PREFIX-symbol.json, "
                             "PREFIX-NNNN.params); skips training")
    parser.add_argument("--epoch", type=int, default=None, help="the checkpoint's epoch NNNN")
    parser.add_argument("--input-name", default="data", help="the graph's input variable")
    parser.add_argument("--mean", type=float, default=0.0,
                        help="inputs are (pixel / 255 - mean) / std")
    parser.add_argument("--std", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--num-samples", type=int, default=0,
                        help="training images used (0: all 60000)")
    parser.add_argument("--num-test", type=int, default=0, help="test images (0: all 10000)")
    parser.add_argument("--output-dir", default="export_inference_out")
    parser.add_argument("--save-inputs", default=None, help=".nd file for the saved inputs")
    parser.add_argument("--save-outputs", default=None, help=".nd file for the saved outputs")
    parser.add_argument("--num-save", type=int, default=64)
    parser.add_argument("--tiny", action="store_true",
                        help="a few seconds: 1 epoch of 2000 training images, 300 test images")
    args = parser.parse_args(argv)
    if args.tiny:
        args.num_samples, args.epochs, args.batch_size, args.num_test = 2000, 1, 50, 300
    if args.checkpoint and args.epoch is None:
        parser.error("--checkpoint needs --epoch")
    return args


def get_net():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(16, kernel_size=5, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Conv2D(32, kernel_size=5, activation="relu"),
            nn.MaxPool2D(pool_size=2, strides=2),
            nn.Flatten(),
            nn.Dense(128, activation="relu"),
            nn.Dense(10))
    return net


def load_split(args, train, count):
    """Images as float32 (N, 1, 28, 28), (pixel / 255 - mean) / std, and int labels."""
    data = gluon.data.vision.FashionMNIST(args.data_dir, train=train).take(count or None)
    to_input = gluon.data.vision.transforms.Compose([
        gluon.data.vision.transforms.ToTensor(),
        gluon.data.vision.transforms.Normalize(args.mean, args.std)])
    return data.transform_first(to_input)


def train_and_export(args):
    train = load_split(args, True, args.num_samples)
    loader = gluon.data.DataLoader(train, args.batch_size, shuffle=True, last_batch="discard")
    net = get_net()
    net.initialize(mx.init.Xavier(magnitude=2))
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": 0.9, "wd": 1e-4})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(args.epochs):
        metric, tic = mx.metric.Accuracy(), time.time()
        for x, y in loader:
            with autograd.record():
                out = net(x)
                loss = loss_fn(out, y)
            loss.backward()
            trainer.step(x.shape[0])
            metric.update([y], [out])
        print("Epoch %d/%d: train accuracy %.4f (%.1f s)"
              % (epoch + 1, args.epochs, metric.get()[1], time.time() - tic), flush=True)
    prefix = os.path.join(args.output_dir, "model")
    net.export(prefix, epoch=args.epochs)
    print("Exported %s-symbol.json and %s-%04d.params" % (prefix, prefix, args.epochs))
    return prefix, args.epochs


def main(argv=None):
    args = parse_args(argv)
    mx.random.seed(42)
    np.random.seed(42)  # gluon.data's RandomSampler draws from NumPy's generator, as MXNet's
    os.makedirs(args.output_dir, exist_ok=True)
    if args.checkpoint:
        prefix, epoch = args.checkpoint, args.epoch
    else:
        prefix, epoch = train_and_export(args)

    test = load_split(args, False, args.num_test)
    x = mx.nd.stack(*[test[i][0] for i in range(len(test))])
    labels = np.array([test[i][1] for i in range(len(test))])

    # 1. gluon.SymbolBlock.imports: the graph as a block, its parameters from the .params file.
    block = gluon.SymbolBlock.imports(prefix + "-symbol.json", [args.input_name],
                                      "%s-%04d.params" % (prefix, epoch))
    block.hybridize()
    out_block = mx.nd.concat(*[block(x[i:i + args.batch_size])
                               for i in range(0, len(x), args.batch_size)], dim=0).asnumpy()

    # 2. mx.mod.Module: load_checkpoint, bind for inference, set the parameters, predict.
    sym, arg_params, aux_params = mx.model.load_checkpoint(prefix, epoch)
    mod = mx.mod.Module(symbol=sym, data_names=[args.input_name], label_names=None)
    mod.bind(data_shapes=[(args.input_name, (args.batch_size, 1, 28, 28))], for_training=False)
    mod.set_params(arg_params, aux_params)
    it = mx.io.NDArrayIter(x, batch_size=args.batch_size, data_name=args.input_name)
    out_mod = mod.predict(it).asnumpy()

    pred_block, pred_mod = out_block.argmax(axis=1), out_mod.argmax(axis=1)
    for i in range(5):
        print("test image %d: SymbolBlock %d (%s), Module %d, true %d (%s)"
              % (i, pred_block[i], CLASSES[pred_block[i]], pred_mod[i], labels[i],
                 CLASSES[labels[i]]))
    acc_block, acc_mod = (pred_block == labels).mean(), (pred_mod == labels).mean()
    print("SymbolBlock test accuracy %.4f on %d images" % (acc_block, len(labels)))
    print("Module test accuracy %.4f on %d images" % (acc_mod, len(labels)))
    print("Largest difference between the two outputs: %.3g" % np.abs(out_block - out_mod).max())
    n = min(args.num_save, len(x))
    if args.save_inputs:
        mx.nd.save(args.save_inputs, [x[:n]])
    if args.save_outputs:
        mx.nd.save(args.save_outputs, [mx.nd.array(out_block[:n])])
    return acc_block


if __name__ == "__main__":
    main()
