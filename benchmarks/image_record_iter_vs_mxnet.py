"""ImageRecordIter throughput: mixnet's mx.io.ImageRecordIter against Apache MXNet 1.9.1's on
the same .rec file (2000 generated 256x256 JPEGs, quality 90), with ImageNet training
settings (data_shape (3, 224, 224), rand_crop, rand_mirror, mean/std), at equal
preprocess_threads; and against PIL decode + crop + flip in Python when PIL is importable.

    python benchmarks/image_record_iter_vs_mxnet.py [--images 2000] [--threads 1 2] [--epochs 3]
        [--json FILE]

Prints the median images/s over the epochs for each and the ratio mixnet / MXNet. MXNet runs
in its own venv (~/.cache/mixnet/mxnet-1.9.1-venv, or $MIXNET_MXNET_PYTHON) in a subprocess.
--json writes the images/s of every epoch: {"mixnet": {threads: [...]}, "mxnet": {threads: [...]},
"pil": [...]} (a peer that did not run is null).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

import mixnet as mx
from mixnet import recordio

MXNET_PYTHON = os.path.expanduser(
    os.environ.get("MIXNET_MXNET_PYTHON", "~/.cache/mixnet/mxnet-1.9.1-venv/bin/python"))
SETTINGS = dict(data_shape=(3, 224, 224), batch_size=64, rand_crop=True, rand_mirror=True,
                mean_r=123.68, mean_g=116.779, mean_b=103.939, std_r=58.395, std_g=57.12,
                std_b=57.375)


def make_rec(folder, n):
    """n 256x256 JPEGs: smooth gradients plus noise (photo-like sizes, ~20-30 KB)."""
    rec, idx = os.path.join(folder, "bench.rec"), os.path.join(folder, "bench.idx")
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    for i in range(n):
        a, b, c = rng.uniform(0.2, 1.0, 3)
        base = np.stack([yy * a, xx * b, (yy + xx) * c / 2], axis=2)
        img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        w.write_idx(i, recordio.pack_img(recordio.IRHeader(0, float(i % 1000), i, 0), img,
                                         quality=90, img_fmt=".jpg"))
    w.close()
    return rec, idx


def time_epochs(it, epochs):
    rates = []
    for _ in range(epochs):
        it.reset()
        t = time.perf_counter()
        n = 0
        for b in it:
            b.data[0].wait_to_read()
            n += b.data[0].shape[0] - b.pad
        rates.append(n / (time.perf_counter() - t))
    return rates


def mixnet_rate(rec, idx, threads, epochs):
    it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=idx, preprocess_threads=threads,
                               **SETTINGS)
    return time_epochs(it, epochs)


def mxnet_rate(rec, idx, threads, epochs):
    if not os.path.exists(MXNET_PYTHON):
        return None
    code = textwrap.dedent(f"""
        import json, time, numpy as np, mxnet as mx
        it = mx.io.ImageRecordIter(path_imgrec={rec!r}, path_imgidx={idx!r},
                                   preprocess_threads={threads}, **{SETTINGS!r})
        rates = []
        for _ in range({epochs}):
            it.reset()
            t = time.perf_counter(); n = 0
            for b in it:
                b.data[0].wait_to_read(); n += b.data[0].shape[0] - b.pad
            rates.append(n / (time.perf_counter() - t))
        print(json.dumps(rates))
    """)
    out = subprocess.run([MXNET_PYTHON, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pil_rate(rec, epochs):
    try:
        from PIL import Image
    except ImportError:
        return None
    import io
    reader = recordio.MXRecordIO(rec, "r")
    records = []
    while (r := reader.read()) is not None:
        records.append(r)
    rng = np.random.RandomState(0)
    rates = []
    for _ in range(epochs):
        t = time.perf_counter()
        for r in records:
            _, payload = recordio.unpack(r)
            img = np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"))
            y, x = rng.randint(0, img.shape[0] - 223), rng.randint(0, img.shape[1] - 223)
            img = img[y:y + 224, x:x + 224]
            if rng.rand() < 0.5:
                img = img[:, ::-1]
            chw = img.transpose(2, 0, 1).astype(np.float32)
        rates.append(len(records) / (time.perf_counter() - t))
    return rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--json", help="also write every epoch's images/s here")
    args = ap.parse_args()
    out = {"mixnet": {}, "mxnet": {}, "pil": None}
    median = lambda rates: float(np.median(rates))  # noqa: E731
    with tempfile.TemporaryDirectory() as folder:
        rec, idx = make_rec(folder, args.images)
        print(f"{args.images} JPEGs 256x256 q90, {os.path.getsize(rec) / 2**20:.1f} MiB; "
              f"batch 64, (3,224,224), rand_crop, rand_mirror, mean/std; "
              f"median of {args.epochs} epochs")
        for threads in args.threads:
            ours = mixnet_rate(rec, idx, threads, args.epochs)
            theirs = mxnet_rate(rec, idx, threads, args.epochs)
            out["mixnet"][threads], out["mxnet"][threads] = ours, theirs
            ours = median(ours)
            line = f"preprocess_threads={threads}: mixnet {ours:8.0f} img/s"
            if theirs is None:
                line += f"   MXNet 1.9.1: skipped (not found at {MXNET_PYTHON})"
            else:
                theirs = median(theirs)
                line += f"   MXNet 1.9.1 {theirs:8.0f} img/s   mixnet/MXNet {ours / theirs:5.2f}"
            print(line, flush=True)
        pil = out["pil"] = pil_rate(rec, args.epochs)
        if pil is None:
            print("PIL decode+crop+flip (1 thread): skipped (PIL is not importable)")
        else:
            print(f"PIL decode+crop+flip (1 thread, Python): {median(pil):8.0f} img/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
