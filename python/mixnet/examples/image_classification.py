"""Image classification with a model-zoo ResNet on Fashion-MNIST, from the idx files or from a
RecordIO (.rec) database made by im2rec.

    python -m mixnet.examples.image_classification                   # Fashion-MNIST, DataLoader
    python -m mixnet.examples.image_classification --data rec        # im2rec .rec, ImageRecordIter
    python -m mixnet.examples.image_classification --data rec --rec train.rec --val-rec val.rec
    python -m mixnet.examples.image_classification --tiny            # a few seconds (CI)

--data fashion-mnist reads Debian's dataset-fashion-mnist through gluon.data.vision.FashionMNIST
and a DataLoader. --data rec first turns the images into files, as a user's own data would be
(PNG files in one folder per class under OUTPUT_DIR/images), lists and packs them with im2rec
(mixnet.tools.im2rec, MXNet's tools/im2rec.py), then trains from mx.io.ImageRecordIter with
random crop and mirror and mean/std normalisation. The network is
gluon.model_zoo.vision.get_model(MODEL, classes=10, thumbnail=True) (a 3x3 stem without pooling
for small images), hybridized, trained with a gluon.Trainer; each epoch prints the loss, the
training and validation accuracy and the speed, and the end prints the final validation accuracy
and saves the parameters to OUTPUT_DIR/MODEL.params.
"""
import argparse
import os
import struct
import time
import zlib

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon.data.vision import transforms
from mixnet.tools import im2rec

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle-boot"]
MEAN, STD = 0.286, 0.353  # of Fashion-MNIST's training pixels, on the 0..1 scale


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", choices=["fashion-mnist", "rec"], default="fashion-mnist")
    parser.add_argument("--data-dir", default=FASHION_MNIST, help="Fashion-MNIST idx files")
    parser.add_argument("--rec", default=None,
                        help="--data rec: a training .rec (with its .idx beside it) instead of "
                             "making one from Fashion-MNIST")
    parser.add_argument("--val-rec", default=None, help="--data rec: a validation .rec")
    parser.add_argument("--model", default="resnet18_v1", help="a gluon.model_zoo.vision name")
    parser.add_argument("--width", type=int, default=16,
                        help="resnet18/34 (v1/v2) at this stem width: vision.ResNetV1/V2 with "
                             "widths W, W, 2W, 4W, 8W (the zoo's are 64 wide, 16x the work of "
                             "16); 0: get_model(MODEL) as it is")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--max-batches", type=int, default=0,
                        help="stop each epoch after this many batches (0: all)")
    parser.add_argument("--num-samples", type=int, default=10000,
                        help="training images used (0: all 60000); validation uses a quarter "
                             "as many test images")
    parser.add_argument("--output-dir", default="image_classification_out")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tiny", action="store_true",
                        help="a few seconds: width 8, 2 epochs of 4 batches of 32")
    args = parser.parse_args(argv)
    if args.tiny:
        args.num_samples, args.epochs, args.batch_size, args.max_batches = 256, 2, 32, 4
        args.width = 8
    return args


# ---- data: Fashion-MNIST through gluon.data ----

def fashion_mnist_loaders(args):
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    train = gluon.data.vision.FashionMNIST(args.data_dir, train=True)
    val = gluon.data.vision.FashionMNIST(args.data_dir, train=False)
    train = train.take(args.num_samples or None).transform_first(to_input)
    val = val.take(max(args.num_samples // 4, args.batch_size) if args.num_samples else None)
    val = val.transform_first(to_input)
    train_loader = gluon.data.DataLoader(train, args.batch_size, shuffle=True, last_batch="discard")
    val_loader = gluon.data.DataLoader(val, args.batch_size, shuffle=False)
    return train_loader, val_loader


# ---- data: image files -> im2rec -> ImageRecordIter ----

def write_png(path, img):
    """A grey 8-bit PNG of an HxW uint8 array, with zlib only (as any image writer would)."""
    h, w = img.shape

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_rec(args, train, count, name):
    """Writes `count` Fashion-MNIST images (as many of each class) as
    OUTPUT_DIR/images/NAME/<k>-<class>/<i>.png, lists them with im2rec (a label per folder, in
    sorted order: the class number k) and packs them into OUTPUT_DIR/NAME.rec (+ .idx)."""
    data = gluon.data.vision.FashionMNIST(args.data_dir, train=train)
    root = os.path.join(args.output_dir, "images", name)
    folders = ["%d-%s" % (k, c) for k, c in enumerate(CLASSES)]
    for f in folders:
        os.makedirs(os.path.join(root, f), exist_ok=True)
    per_class, left = [0] * len(CLASSES), count
    for i in range(len(data)):
        img, label = data[i]
        if per_class[label] >= (count + len(CLASSES) - 1) // len(CLASSES):
            continue
        write_png(os.path.join(root, folders[label], "%05d.png" % i), img.asnumpy()[:, :, 0])
        per_class[label] += 1
        left -= 1
        if left == 0:
            break
    prefix = os.path.join(args.output_dir, name)
    im2rec.make_list(prefix, root, recursive=True)
    # Stored at 32x32, so that the training iterator can crop 28x28 at random positions.
    n = im2rec.make_rec(prefix, root, resize=32, encoding=".png", color=0, verbose=False)
    print("im2rec: %d images in %d class folders -> %s.rec" % (n, len(folders), prefix))
    return prefix + ".rec"


def rec_iters(args):
    if args.rec:
        train_rec, val_rec = args.rec, args.val_rec
    else:
        count = args.num_samples or 60000
        train_rec = make_rec(args, True, count, "train")
        val_rec = make_rec(args, False, max(count // 4, args.batch_size), "val")
    norm = dict(mean_r=MEAN * 255, std_r=STD * 255)  # one channel: the first mean and std
    train_iter = mx.io.ImageRecordIter(
        path_imgrec=train_rec, path_imgidx=os.path.splitext(train_rec)[0] + ".idx",
        data_shape=(1, 28, 28), batch_size=args.batch_size, shuffle=True, seed=args.seed,
        rand_crop=True, rand_mirror=True, preprocess_threads=2, **norm)
    val_iter = None
    if val_rec:
        val_iter = mx.io.ImageRecordIter(path_imgrec=val_rec, data_shape=(1, 28, 28),
                                         batch_size=args.batch_size, round_batch=False, **norm)
    return train_iter, val_iter


def batches(data, max_batches=0):
    """(data, label, valid rows) of a DataLoader or a DataIter, at most `max_batches`."""
    if isinstance(data, mx.io.DataIter):
        data.reset()
        it = ((b.data[0], b.label[0], b.data[0].shape[0] - (b.pad or 0)) for b in data)
    else:
        it = ((x, y, x.shape[0]) for x, y in data)
    for i, item in enumerate(it):
        if max_batches and i >= max_batches:
            break
        yield item


# ---- training ----

RESNET_LAYERS = {"18": [2, 2, 2, 2], "34": [3, 4, 6, 3]}


def get_net(args):
    """get_model(MODEL, classes=10, thumbnail=True), or for resnet18/34 at another width the
    zoo's ResNet class with that layout (MXNet's get_resnet does the same with width 64)."""
    vision = gluon.model_zoo.vision
    name = args.model.lower()
    depth, _, version = name[len("resnet"):].partition("_v")
    if args.width and name.startswith("resnet") and depth in RESNET_LAYERS:
        w = args.width
        resnet, block = ((vision.ResNetV1, vision.BasicBlockV1) if version == "1" else
                         (vision.ResNetV2, vision.BasicBlockV2))
        return resnet(block, RESNET_LAYERS[depth], [w, w, 2 * w, 4 * w, 8 * w], classes=10,
                      thumbnail=True)
    return vision.get_model(name, classes=10, thumbnail=name.startswith("resnet"))


def evaluate(net, data, max_batches=0):
    metric = mx.metric.Accuracy()
    for x, y, n in batches(data, max_batches):
        out = net(x)
        metric.update([y[:n]], [out[:n]])
    return metric.get()[1]


def train(args, net, train_data, val_data):
    net.initialize(mx.init.Xavier(magnitude=2))
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": args.lr, "momentum": 0.9, "wd": 1e-4})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    metric = mx.metric.Accuracy()
    val_acc = float("nan")
    for epoch in range(args.epochs):
        metric.reset()
        total_loss, samples, tic = 0.0, 0, time.time()
        for x, y, n in batches(train_data, args.max_batches):
            with autograd.record():
                out = net(x)
                loss = loss_fn(out, y)
            loss.backward()
            trainer.step(x.shape[0])
            metric.update([y], [out])
            total_loss += loss.sum().asscalar()
            samples += x.shape[0]
        elapsed = time.time() - tic
        line = "Epoch %d/%d: loss %.4f, train accuracy %.4f" % (
            epoch + 1, args.epochs, total_loss / max(samples, 1), metric.get()[1])
        if val_data is not None:
            val_acc = evaluate(net, val_data, args.max_batches)
            line += ", validation accuracy %.4f" % val_acc
        print(line + " (%d samples in %.1f s, %.0f samples/s)"
              % (samples, elapsed, samples / max(elapsed, 1e-9)), flush=True)
    return val_acc


def main(argv=None):
    args = parse_args(argv)
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.output_dir, exist_ok=True)
    if args.data == "fashion-mnist":
        train_data, val_data = fashion_mnist_loaders(args)
    else:
        train_data, val_data = rec_iters(args)
    net = get_net(args)
    print("%s (width %s) on %s: %d epochs, batch size %d"
          % (args.model, args.width or "as in the zoo", args.data, args.epochs, args.batch_size),
          flush=True)
    tic = time.time()
    val_acc = train(args, net, train_data, val_data)
    params = os.path.join(args.output_dir, args.model + ".params")
    net.save_parameters(params)
    if val_data is None:
        print("No validation data (pass --val-rec with --rec); parameters saved to %s" % params)
    else:
        print("Final validation accuracy: %.4f (%.1f s); parameters saved to %s"
              % (val_acc, time.time() - tic, params))
    return val_acc


if __name__ == "__main__":
    main()
