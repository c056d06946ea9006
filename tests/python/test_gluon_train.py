"""The classic Gluon Fashion-MNIST training loop (MXNet 1.x tutorial style) with only the import
line changed, on a subset so that it runs in well under a minute."""
import os
import time

import numpy as np
import pytest

DATA = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, "train-images-idx3-ubyte.gz")),
                                reason=f"Debian's dataset-fashion-mnist is not installed ({DATA})")


def test_fashion_mnist_mlp_trains_to_75_percent():
    import mixnet as mx  # was: import mxnet as mx
    from mixnet import gluon, autograd
    from mixnet.gluon import nn
    from mixnet.gluon.data.vision import datasets, transforms

    start = time.time()
    np.random.seed(42)  # the DataLoader's shuffle
    transformer = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.13, 0.31)])
    mnist_train = datasets.FashionMNIST(train=True).take(10000).transform_first(transformer)
    mnist_valid = datasets.FashionMNIST(train=False).take(2000).transform_first(transformer)
    batch_size = 64
    train_data = gluon.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True,
                                       num_workers=4)
    valid_data = gluon.data.DataLoader(mnist_valid, batch_size=256, num_workers=4)

    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(256, activation="relu"),
                nn.Dense(128, activation="relu"),
                nn.Dense(10))
    net.initialize(init='xavier')
    net.hybridize()
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': 0.001})

    for epoch in range(2):
        train_loss, train_acc = 0.0, mx.metric.Accuracy()
        for data, label in train_data:
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(batch_size=data.shape[0])
            train_loss += mx.nd.mean(loss).asscalar()
            train_acc.update([label], [output])
        valid_acc = mx.metric.Accuracy()
        for data, label in valid_data:
            valid_acc.update([label], [net(data)])
        print(f"Epoch {epoch}: loss {train_loss / len(train_data):.3f}, "
              f"train acc {train_acc.get()[1]:.3f}, valid acc {valid_acc.get()[1]:.3f}, "
              f"{time.time() - start:.1f} s")
    assert valid_acc.get()[1] > 0.75
    assert train_loss / len(train_data) < 0.8
