"""Create an image list or make a record database by reading from an image list.

MXNet 1.x's tools/im2rec.py with the same options and files, run from the installed package:
``python -m mixnet.tools.im2rec --list --recursive PREFIX ROOT`` walks ROOT and writes
PREFIX.lst ("index\\tlabel\\tpath" lines, shuffled as MXNet's with seed 100); without --list
every PREFIX*.lst is packed into a .rec and .idx beside it. The work is done in C++
(mixnet/io/im2rec.h, also behind the mixnet_im2rec program), so it needs no OpenCV.

From Python::

    from mixnet.tools import im2rec
    im2rec.make_list("data/train", "images/", recursive=True)
    im2rec.make_rec("data/train", "images/", resize=32, encoding=".png")

Differences from MXNet: records are written in list order with any --num-thread (MXNet 1.x's
multi-process writer does the same); images are decoded without applying EXIF orientation.
"""
import argparse
import os
import sys

from .. import _core

__all__ = ["make_list", "make_rec", "parse_args", "run", "main"]


def make_list(prefix, root, exts=(".jpeg", ".jpg", ".png"), chunks=1, train_ratio=1.0,
              test_ratio=0.0, recursive=False, shuffle=True):
    """Writes PREFIX.lst for the images under `root` (with `chunks`, `train_ratio` or
    `test_ratio`: PREFIX[_i][_train|_test|_val].lst, as MXNet). With `recursive`, each folder
    holding images gets a label; returns the list of (folder, label) pairs."""
    return _core.im2rec_make_list(os.fspath(prefix), os.fspath(root), list(exts), int(chunks),
                                  float(train_ratio), float(test_ratio), bool(recursive),
                                  bool(shuffle))


def make_rec(prefix, root, pass_through=False, resize=0, center_crop=False, quality=95,
             num_thread=1, color=1, encoding=".jpg", pack_label=False, verbose=True):
    """Packs every PREFIX*.lst into PREFIX*.rec and PREFIX*.idx, reading the images from
    `root`; returns the number of records written. Images that cannot be read are reported on
    stderr and left out."""
    count, out, err = _core.im2rec_make_records(
        os.fspath(prefix), os.fspath(root), bool(pass_through), int(resize), bool(center_crop),
        int(quality), int(num_thread), int(color), str(encoding), bool(pack_label))
    if verbose:
        sys.stdout.write(out)
    sys.stderr.write(err)
    return count


def parse_args(argv=None, binary_option=False):
    """MXNet's im2rec.py arguments (with `binary_option`, tools/im2rec.py's --binary too)."""
    parser = argparse.ArgumentParser(
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Create an image list or make a record database by reading from an "
                    "image list")
    parser.add_argument("prefix", help="prefix of input/output lst and rec files.")
    parser.add_argument("root", help="path to folder containing images.")

    cgroup = parser.add_argument_group("Options for creating image lists")
    cgroup.add_argument("--list", action="store_true",
                        help="If this is set im2rec will create image list(s) by traversing "
                             "root folder and output to <prefix>.lst. Otherwise im2rec will "
                             "read <prefix>.lst and create a database at <prefix>.rec")
    cgroup.add_argument("--exts", nargs="+", default=[".jpeg", ".jpg", ".png"],
                        help="list of acceptable image extensions.")
    cgroup.add_argument("--chunks", type=int, default=1, help="number of chunks.")
    cgroup.add_argument("--train-ratio", type=float, default=1.0,
                        help="Ratio of images to use for training.")
    cgroup.add_argument("--test-ratio", type=float, default=0,
                        help="Ratio of images to use for testing.")
    cgroup.add_argument("--recursive", action="store_true",
                        help="If true recursively walk through subdirs and assign an unique "
                             "label to images in each folder. Otherwise only include images in "
                             "the root folder and give them label 0.")
    cgroup.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                        help="If this is passed, im2rec will not randomize the image order in "
                             "<prefix>.lst")
    rgroup = parser.add_argument_group("Options for creating database")
    rgroup.add_argument("--pass-through", action="store_true",
                        help="whether to skip transformation and save image as is")
    rgroup.add_argument("--resize", type=int, default=0,
                        help="resize the shorter edge of image to the newsize, original images "
                             "will be packed by default.")
    rgroup.add_argument("--center-crop", action="store_true",
                        help="specify whether to crop the center image to make it rectangular.")
    rgroup.add_argument("--quality", type=int, default=95,
                        help="JPEG quality for encoding, 1-100; or PNG compression for "
                             "encoding, 1-9")
    rgroup.add_argument("--num-thread", type=int, default=1,
                        help="number of thread to use for encoding (records keep the order of "
                             "the list).")
    rgroup.add_argument("--color", type=int, default=1, choices=[-1, 0, 1],
                        help="specify the color mode of the loaded image. 1: Loads a color "
                             "image. Any transparency of image will be neglected. It is the "
                             "default flag. 0: Loads image in grayscale mode. -1:Loads image "
                             "as such including alpha channel.")
    rgroup.add_argument("--encoding", type=str, default=".jpg", choices=[".jpg", ".png"],
                        help="specify the encoding of the images.")
    rgroup.add_argument("--pack-label", action="store_true",
                        help="Whether to also pack multi dimensional label in the record file")
    if binary_option:
        parser.add_argument("--binary", default=None,
                            help="(mixnet) run this mixnet_im2rec executable instead of the "
                                 "package")
    args = parser.parse_args(argv)
    args.prefix = os.path.abspath(args.prefix)
    args.root = os.path.abspath(args.root)
    return args


def _run(args):
    if args.list:
        for folder, label in make_list(args.prefix, args.root, args.exts, args.chunks,
                                       args.train_ratio, args.test_ratio, args.recursive,
                                       args.shuffle):
            print(folder, label)
    else:
        make_rec(args.prefix, args.root, args.pass_through, args.resize, args.center_crop,
                 args.quality, args.num_thread, args.color, args.encoding, args.pack_label)


def run(args):
    """Runs parsed `args` in this process (makes the list(s) or the record file(s)); returns
    the exit status: 1, with the message on stderr, for a bad option or a missing list."""
    try:
        _run(args)
    except (ValueError, OSError) as e:
        sys.stderr.write("im2rec: %s\n" % e)
        return 1
    return 0


def main(argv=None):
    """The command line: ``python -m mixnet.tools.im2rec [options] PREFIX ROOT``."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
