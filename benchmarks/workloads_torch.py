"""The suite's PyTorch workloads: the same networks, steps and data as workloads_gluon.py,
written as torch nn.Modules (torchvision is not used: Debian's python3-torch has none, and MXNet's
ResNet v1 differs from torchvision's).

    python benchmarks/workloads_torch.py --workload W [--quick]

Prints one JSON line like workloads_gluon.py. Runs with torch.set_num_threads(OMP_NUM_THREADS);
the network is eager (torch's default mode), gradients are set to None between steps.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402


def trainable_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def lenet():
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                         nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                         nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


class ResidualV1(nn.Module):
    """relu(body(x) + x), or + a 1x1 convolution-BN downsample of x when the width changes."""

    def __init__(self, body, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        r = x if self.downsample is None else self.downsample(x)
        return torch.relu(self.body(x) + r)


def basic_block_v1(cin, cout, stride):
    """Gluon's BasicBlockV1: conv3x3(stride)-BN-relu-conv3x3-BN."""
    return ResidualV1([nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                       nn.BatchNorm2d(cout)], cin, cout, stride)


def bottleneck_v1(cin, cout, stride):
    """Gluon's BottleneckV1: the stride is on the first 1x1 convolution, and both 1x1
    convolutions have a bias, as in Gluon's model zoo (torchvision strides the 3x3 instead)."""
    mid = cout // 4
    return ResidualV1([nn.Conv2d(cin, mid, 1, stride), nn.BatchNorm2d(mid), nn.ReLU(),
                       nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                       nn.Conv2d(mid, cout, 1), nn.BatchNorm2d(cout)], cin, cout, stride)


def resnet_v1(block, layers, channels, classes, thumbnail):
    """Gluon's model-zoo ResNetV1: the CIFAR ("thumbnail") stem is a single 3x3 convolution."""
    if thumbnail:
        stem = [nn.Conv2d(3, channels[0], 3, 1, 1, bias=False)]
    else:
        stem = [nn.Conv2d(3, channels[0], 7, 2, 3, bias=False), nn.BatchNorm2d(channels[0]),
                nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    stages = []
    for i, n in enumerate(layers):
        stride = 1 if i == 0 else 2
        blocks = [block(channels[i], channels[i + 1], stride)]
        blocks += [block(channels[i + 1], channels[i + 1], 1) for _ in range(n - 1)]
        stages += blocks
    return nn.Sequential(*stem, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(channels[-1], classes))


def train_images(model, batches, batch, warmup, reps, iters):
    """A full training step (forward, softmax cross-entropy, backward, SGD momentum) over a ring
    of batches in memory: the result with samples/s of each repetition."""
    flops = bc.torch_flops(torch, model, batches[0][0])
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    i = [0]

    def step():
        x, y = batches[i[0] % len(batches)]
        i[0] += 1
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    secs = bc.time_reps(step, lambda: None, warmup, reps, iters)
    return {"params": trainable_params(model), "flops_per_sample": flops,
            "metrics": {"train": [batch / s for s in secs]}}


def synthetic_images(count, batch, shape, classes):
    rng = np.random.RandomState(0)
    return [(torch.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32)),
             torch.from_numpy(rng.randint(0, classes, batch).astype(np.int64)))
            for _ in range(count)]


def run_lenet(sched):
    images, labels = bc.load_fashion_mnist(bc.LENET_BATCH * 20)
    x, y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    batches = [(x[k:k + bc.LENET_BATCH].clone(), y[k:k + bc.LENET_BATCH].clone())
               for k in range(0, len(x), bc.LENET_BATCH)]
    return train_images(lenet(), batches, bc.LENET_BATCH, *sched("lenet"))


def run_resnet18(sched):
    model = resnet_v1(basic_block_v1, [2, 2, 2, 2], [64, 64, 128, 256, 512], 10, True)
    batches = synthetic_images(2, bc.RESNET18_BATCH, (3, 32, 32), 10)
    return train_images(model, batches, bc.RESNET18_BATCH, *sched("resnet18"))


def run_resnet50(sched):
    model = resnet_v1(bottleneck_v1, [3, 4, 6, 3], [64, 256, 512, 1024, 2048], 1000, False)
    model.eval()
    rng = np.random.RandomState(0)
    x1 = torch.from_numpy(rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
    x32 = torch.from_numpy(rng.standard_normal((bc.RESNET50_BATCH, 3, 224, 224)).astype(np.float32))
    flops = bc.torch_flops(torch, model, x1)
    with torch.no_grad():
        secs = bc.time_reps(lambda: model(x1), lambda: None, *sched("resnet50_b1"))
        latency_ms = [s * 1e3 for s in secs]
        secs = bc.time_reps(lambda: model(x32), lambda: None, *sched("resnet50_b32"))
    return {"params": trainable_params(model), "flops_per_sample": flops,
            "metrics": {"latency_b1": latency_ms,
                        "throughput_b32": [bc.RESNET50_BATCH / s for s in secs]}}


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(bc.LSTM_VOCAB, bc.LSTM_EMBED)
        self.rnn = nn.LSTM(bc.LSTM_EMBED, bc.LSTM_HIDDEN, bc.LSTM_LAYERS)
        self.decoder = nn.Linear(bc.LSTM_HIDDEN, bc.LSTM_VOCAB)

    def forward(self, x, state):
        out, state = self.rnn(self.encoder(x), state)
        return self.decoder(out), state


def run_lstm(sched):
    model = RNNModel()
    rng = np.random.RandomState(0)
    shape = (bc.LSTM_BPTT, bc.LSTM_BATCH)
    batches = [(torch.from_numpy(rng.randint(0, bc.LSTM_VOCAB, shape)),
                torch.from_numpy(rng.randint(0, bc.LSTM_VOCAB, shape))) for _ in range(4)]
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    zeros = torch.zeros(bc.LSTM_LAYERS, bc.LSTM_BATCH, bc.LSTM_HIDDEN)
    state = [(zeros, zeros.clone())]
    tokens = bc.LSTM_BPTT * bc.LSTM_BATCH
    i = [0]

    def step():
        x, y = batches[i[0] % len(batches)]
        i[0] += 1
        h, c = (s.detach() for s in state[0])
        opt.zero_grad(set_to_none=True)
        out, state[0] = model(x, (h, c))
        loss_fn(out.reshape(-1, bc.LSTM_VOCAB), y.reshape(-1)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), bc.LSTM_CLIP)
        opt.step()

    secs = bc.time_reps(step, lambda: None, *sched("lstm"))
    return {"params": trainable_params(model), "flops_per_sample": None,
            "metrics": {"train": [tokens / s for s in secs]}}


def main():
    args = bc.child_args(__doc__.splitlines()[0])
    torch.set_num_threads(bc.compute_threads())
    torch.manual_seed(0)
    run = {"lenet": run_lenet, "resnet18": run_resnet18, "resnet50": run_resnet50,
           "lstm": run_lstm}[args.workload]
    result = run(lambda w: bc.schedule(w, args.quick))
    result.update(framework="torch", version=torch.__version__, workload=args.workload,
                  torch_threads=torch.get_num_threads())
    bc.emit(result)


if __name__ == "__main__":
    main()
