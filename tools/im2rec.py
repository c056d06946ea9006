#!/usr/bin/env python3
"""Create an image list or make a record database by reading from an image list.

MXNet 1.x's tools/im2rec.py with the same options and files: ``--list`` walks ROOT and writes
PREFIX.lst ("index\\tlabel\\tpath" lines, shuffled as MXNet's with seed 100); without it every
PREFIX*.lst is packed into a .rec and .idx beside it. The work is done in this process by the
installed package (``python -m mixnet.tools.im2rec`` is the same tool), or with --binary PATH
by the C++ program mixnet_im2rec (tools/im2rec.cc; find_binary locates it through
$MIXNET_IM2REC, PATH or the build folder next to this file).

Differences from MXNet: records are written in list order with any --num-thread (MXNet 1.x's
multi-process writer does the same); images are decoded without applying EXIF orientation.
"""
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
    """MXNet's arguments, plus --binary (mixnet.tools.im2rec defines them)."""
    from mixnet.tools import im2rec
    return im2rec.parse_args(argv, binary_option=True)


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
    if args.binary is None:  # in this process, through the installed package
        from mixnet.tools import im2rec
        return im2rec.run(args)
    return subprocess.call([find_binary(args.binary)] + tool_args(args))


if __name__ == "__main__":
    sys.exit(main())
