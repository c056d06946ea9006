"""DataLoader throughput: mixnet's gluon.data.DataLoader over FashionMNIST with
transform_first(Compose([ToTensor(), Normalize()])) (num_workers 0 and 2) against PyTorch's
DataLoader over the same uint8 arrays with the same per-sample transform in torch ops.

    python benchmarks/dataloader_vs_torch.py [--batches 100] [--batch-size 128]

Prints batches/s for each and the ratio mixnet / torch at equal num_workers, then the loaders
without a transform. (ToTensor, Normalize and their Compose are C++ blocks, so mixnet's
workers run the transform without the GIL.) Needs Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) and torch.
"""
import argparse
import time

import numpy as np

import mixnet as mx
from mixnet import gluon

MEAN, STD = 0.286, 0.353


def rate(loader, batches):
    it = iter(loader)
    next(it)  # start-up (threads, processes) is not timed
    t = time.perf_counter()
    n = 0
    for _ in range(batches):
        try:
            b = next(it)
        except StopIteration:
            break
        n += 1
    dt = time.perf_counter() - t
    del it
    return n / dt, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()

    T = gluon.data.vision.transforms
    train = gluon.data.vision.FashionMNIST(train=True)
    ds = train.transform_first(T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)]))
    images = train._data.asnumpy()
    labels = train._label

    import torch

    class TorchFashion(torch.utils.data.Dataset):
        def __init__(self):
            self.x = torch.from_numpy(images)
            self.y = torch.from_numpy(labels.astype(np.int64))

        def __len__(self):
            return len(self.y)

        def __getitem__(self, i):
            x = self.x[i].permute(2, 0, 1).float().div(255.0)
            return (x - MEAN) / STD, self.y[i]

    torch.set_num_threads(1)
    results = {}
    for workers in (0, 2):
        mx_rate, b = rate(gluon.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True,
                                                num_workers=workers), args.batches)
        assert b[0].shape == (args.batch_size, 1, 28, 28), b[0].shape
        th_rate, tb = rate(torch.utils.data.DataLoader(TorchFashion(), batch_size=args.batch_size,
                                                       shuffle=True, num_workers=workers),
                           args.batches)
        assert tuple(tb[0].shape) == (args.batch_size, 1, 28, 28)
        results[workers] = (mx_rate, th_rate)
        print(f"num_workers={workers}: mixnet {mx_rate:8.1f} batches/s   torch {th_rate:8.1f} "
              f"batches/s   ratio mixnet/torch {mx_rate / th_rate:.2f}")
    print(f"mixnet workers 2 vs 0: {results[2][0] / results[0][0]:.2f}x")

    # Without a transform: mixnet gathers rows in C++ (no GIL); torch collates per sample.
    tds = torch.utils.data.TensorDataset(torch.from_numpy(images),
                                         torch.from_numpy(labels.astype(np.int64)))
    for workers in (0, 2):
        mx_rate, _ = rate(gluon.data.DataLoader(train, batch_size=args.batch_size, shuffle=True,
                                                num_workers=workers), args.batches)
        th_rate, _ = rate(torch.utils.data.DataLoader(tds, batch_size=args.batch_size,
                                                      shuffle=True, num_workers=workers),
                          args.batches)
        print(f"no transform, num_workers={workers}: mixnet {mx_rate:8.1f} batches/s   torch "
              f"{th_rate:8.1f} batches/s   ratio mixnet/torch {mx_rate / th_rate:.2f}")


if __name__ == "__main__":
    main()
