#!/usr/bin/env python3
"""Create an image list or make a record database by reading from an image list.

MXNet 1.x's tools/im2rec.py with the same options and files: ``--list`` walks ROOT and writes
PREFIX.lst ("index\\tlabel\\tpath" lines, shuffled as MXNet's with seed 100); without it every
PREFIX*.lst is packed into a .rec and .idx beside it. The work is done by the C++ tool
mixnet_im2rec (tools/im2rec.cc), found through --binary, $MIXNET_IM2REC, PATH or the build
folder next to this file (``cmake --build build --target mixnet_im2rec``).

Differences from MXNet: records are written in list order with any --num-thread (MXNet 1.x's
multi-process writer does the same); images are decoded without applying EXIF orientation.
"""
import argparse
import os
import shutil
import subprocess
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def find_binary(explicit=None):
    """The mixnet_im2rec executable: `explicit`, $MIXNET_IM2REC, PATH, then build*/tools/."""
    candidates = [explicit, os.environ.get("MIXNET_IM2REC"), shutil.which("mixnet_im2rec")]
    repo = os.path.dirname(_HERE)
    candidates += [os.path.join(repo, d, "tools", "mixnet_im2rec")
                   for d in sorted(os.listdir(repo)) if d.startswith("build")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    if explicit:
        raise SystemExit(f"im2rec.py: --binary {explicit} is not an executable")
    raise SystemExit("im2rec.py: mixnet_im2rec not found; build it (cmake --build build --target "
                     "mixnet_im2rec) or pass --binary PATH / set MIXNET_IM2REC")


def parse_args(argv=None):
    """Defines all arguments (MXNet's, plus --binary)."""
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
    parser.add_argument("--binary", default=None,
                        help="(mixnet) path to the mixnet_im2rec executable")
    args = parser.parse_args(argv)
    args.prefix = os.path.abspath(args.prefix)
    args.root = os.path.abspath(args.root)
    return args


def tool_args(args):
    """The mixnet_im2rec command line for parsed `args`."""
    cmd = []
    if args.list:
        cmd += ["--list", "--exts", *args.exts, "--chunks", str(args.chunks),
                "--train-ratio", repr(args.train_ratio), "--test-ratio", repr(args.test_ratio)]
        cmd += ["--recursive"] if args.recursive else []
        cmd += [] if args.shuffle else ["--no-shuffle"]
    else:
        cmd += ["--resize", str(args.resize), "--quality", str(args.quality),
                "--num-thread", str(args.num_thread), "--color", str(args.color),
                "--encoding", args.encoding]
        for flag in ("pass_through", "center_crop", "pack_label"):
            if getattr(args, flag):
                cmd.append("--" + flag.replace("_", "-"))
    return cmd + [args.prefix, args.root]


def main(argv=None):
    args = parse_args(argv)
    return subprocess.call([find_binary(args.binary)] + tool_args(args))


if __name__ == "__main__":
    sys.exit(main())
