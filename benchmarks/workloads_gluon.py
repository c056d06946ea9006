"""The suite's Gluon workloads, one code for mixnet and Apache MXNet 1.9.1: only the import
differs (`import mixnet as mx` or `import mxnet as mx`), which is itself the compatibility claim.

    python benchmarks/workloads_gluon.py --framework mixnet|mxnet --workload W [--quick]

W is lenet, resnet18, resnet50 or lstm (see benchmarks/suite.py). Prints one JSON line: the
rates of each timed repetition, the trainable parameter count, the forward FLOP per sample
(NOTE [ FLOP convention ] in bench_common.py) and the process's peak memory. Every network is
hybridized with static_alloc and static_shape (MXNet's fastest setting); the engine is drained
by waitall() at the end of each repetition so all queued work is counted.
"""
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402


def import_framework(name):
    if name == "mixnet":
        import mixnet as mx
    else:
        warnings.filterwarnings("ignore")
        import mxnet as mx
    return mx


def trainable_params(net):
    return sum(int(np.prod(p.shape)) for p in net.collect_params().values()
               if p.grad_req != "null")


def hybridize(net):
    net.hybridize(static_alloc=True, static_shape=True)


def lenet(mx):
    """LeNet-5 as in MXNet's examples (also used by benchmarks/dataloader_wait.py)."""
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(20, 5, activation="relu"), nn.MaxPool2D(2, 2),
                nn.Conv2D(50, 5, activation="relu"), nn.MaxPool2D(2, 2),
                nn.Flatten(), nn.Dense(500, activation="relu"), nn.Dense(10))
    return net


def train_images(mx, net, batches, batch, warmup, reps, iters):
    """A full training step (forward, softmax cross-entropy, backward, SGD momentum) over a ring
    of batches in memory: the result with samples/s of each repetition."""
    hybridize(net)
    net(batches[0][0]).wait_to_read()
    flops = bc.gluon_flops(mx, net, batches[0][0].shape)
    autograd = mx.autograd
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd",
                               {"learning_rate": 0.01, "momentum": 0.9})
    i = [0]

    def step():
        x, y = batches[i[0] % len(batches)]
        i[0] += 1
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)

    secs = bc.time_reps(step, mx.nd.waitall, warmup, reps, iters)
    return {"params": trainable_params(net), "flops_per_sample": flops,
            "metrics": {"train": [batch / s for s in secs]}}


def run_lenet(mx, sched):
    b = bc.LENET_BATCH
    images, labels = bc.load_fashion_mnist(b * 20)
    batches = [(mx.nd.array(images[k:k + b]), mx.nd.array(labels[k:k + b]))
               for k in range(0, len(images), b)]
    net = lenet(mx)
    net.initialize(mx.init.Xavier())
    return train_images(mx, net, batches, bc.LENET_BATCH, *sched("lenet"))


def synthetic_images(mx, count, batch, shape, classes):
    rng = np.random.RandomState(0)
    return [(mx.nd.array(rng.standard_normal((batch,) + shape).astype(np.float32)),
             mx.nd.array(rng.randint(0, classes, batch).astype(np.float32)))
            for _ in range(count)]


def run_resnet18(mx, sched):
    net = mx.gluon.model_zoo.vision.resnet18_v1(thumbnail=True, classes=10)
    net.initialize(mx.init.Xavier())
    batches = synthetic_images(mx, 2, bc.RESNET18_BATCH, (3, 32, 32), 10)
    return train_images(mx, net, batches, bc.RESNET18_BATCH, *sched("resnet18"))


def run_resnet50(mx, sched):
    """Inference: latency at batch 1 (each call waits for its result) and throughput at 32."""
    net = mx.gluon.model_zoo.vision.resnet50_v1(classes=1000)
    net.initialize(mx.init.Xavier())
    hybridize(net)
    rng = np.random.RandomState(0)
    x1 = mx.nd.array(rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
    x32 = mx.nd.array(rng.standard_normal((bc.RESNET50_BATCH, 3, 224, 224)).astype(np.float32))
    net(x1).wait_to_read()
    flops = bc.gluon_flops(mx, net, (1, 3, 224, 224))
    secs = bc.time_reps(lambda: net(x1).wait_to_read(), mx.nd.waitall, *sched("resnet50_b1"))
    latency_ms = [s * 1e3 for s in secs]
    net(x32).wait_to_read()  # static_shape: a second graph for the second shape
    secs = bc.time_reps(lambda: net(x32), mx.nd.waitall, *sched("resnet50_b32"))
    return {"params": trainable_params(net), "flops_per_sample": flops,
            "metrics": {"latency_b1": latency_ms,
                        "throughput_b32": [bc.RESNET50_BATCH / s for s in secs]}}


def lstm_model(mx):
    gluon = mx.gluon

    class RNNModel(gluon.HybridBlock):
        """Embedding -> 2-layer fused LSTM -> Dense decoder over the vocabulary (MXNet's
        word_language_model, without dropout)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.encoder = gluon.nn.Embedding(bc.LSTM_VOCAB, bc.LSTM_EMBED)
                self.rnn = gluon.rnn.LSTM(bc.LSTM_HIDDEN, num_layers=bc.LSTM_LAYERS,
                                          input_size=bc.LSTM_EMBED)
                self.decoder = gluon.nn.Dense(bc.LSTM_VOCAB, flatten=False,
                                              in_units=bc.LSTM_HIDDEN)

        def hybrid_forward(self, F, x, h, c):
            out, state = self.rnn(self.encoder(x), [h, c])
            return self.decoder(out), state[0], state[1]

    return RNNModel()


def run_lstm(mx, sched):
    """Tokens/s of a full step: forward, softmax CE over every token, backward, gradient
    clipping by global norm, SGD; the hidden state is carried (detached) between steps."""
    autograd = mx.autograd
    model = lstm_model(mx)
    model.initialize(mx.init.Uniform(0.1))
    hybridize(model)
    rng = np.random.RandomState(0)
    shape = (bc.LSTM_BPTT, bc.LSTM_BATCH)
    batches = [(mx.nd.array(rng.randint(0, bc.LSTM_VOCAB, shape).astype(np.float32)),
                mx.nd.array(rng.randint(0, bc.LSTM_VOCAB, shape).astype(np.float32)))
               for _ in range(4)]
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in model.collect_params().values() if p.grad_req != "null"]
    trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 1.0})
    tokens = bc.LSTM_BPTT * bc.LSTM_BATCH
    state = model.rnn.begin_state(batch_size=bc.LSTM_BATCH)
    i = [0]

    def step():
        x, y = batches[i[0] % len(batches)]
        i[0] += 1
        h, c = (s.detach() for s in state)
        with autograd.record():
            out, h, c = model(x, h, c)
            loss = loss_fn(out, y)
        loss.backward()
        # The summed loss's gradients are tokens x the mean's: clip at tokens x the mean's bound,
        # then step(tokens) rescales (as the MXNet example).
        mx.gluon.utils.clip_global_norm([p.grad() for p in params], bc.LSTM_CLIP * tokens)
        trainer.step(tokens)
        state[:] = [h, c]

    secs = bc.time_reps(step, mx.nd.waitall, *sched("lstm"))
    return {"params": trainable_params(model), "flops_per_sample": None,
            "metrics": {"train": [tokens / s for s in secs]}}


def main():
    args = bc.child_args(__doc__.splitlines()[0])
    mx = import_framework(args.framework)
    run = {"lenet": run_lenet, "resnet18": run_resnet18, "resnet50": run_resnet50,
           "lstm": run_lstm}[args.workload]
    mx.random.seed(0)
    result = run(mx, lambda w: bc.schedule(w, args.quick))
    result.update(framework=args.framework, version=mx.__version__, workload=args.workload)
    bc.emit(result)


if __name__ == "__main__":
    main()
