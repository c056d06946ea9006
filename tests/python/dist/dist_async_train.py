"""dist_async worker for test_dist_async.py: linear regression with gluon.Trainer(kvstore=
'dist_async') (the optimizer runs on the servers); each worker trains on its own half of the
data. Prints the final loss."""
import os
import sys

import numpy as np

import mixnet as mx  # a server or the scheduler runs its role here and exits
from mixnet import autograd, gluon

rank = int(os.environ.get("DMLC_WORKER_ID", "0"))
rng = np.random.RandomState(0)
w_true = rng.randn(8, 1).astype(np.float32)
X = rng.randn(512, 8).astype(np.float32)
Y = X @ w_true + 0.5
X, Y = X[rank::2], Y[rank::2]  # this worker's part

mx.random.seed(rank)  # different inits: rank 0's reaches every worker through kv.init
net = gluon.nn.Dense(1, in_units=8)
net.initialize(mx.init.Normal(1.0))
trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1},
                        kvstore="dist_async")
loss_fn = gluon.loss.L2Loss()
batch = 32
loss0 = float(loss_fn(net(mx.nd.array(X)), mx.nd.array(Y)).mean().asscalar())
for epoch in range(6):
    for i in range(0, len(X), batch):
        x, y = mx.nd.array(X[i:i + batch]), mx.nd.array(Y[i:i + batch])
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
# Each step pulled the servers' weights (update_on_kvstore), so net holds them.
loss = float(loss_fn(net(mx.nd.array(X)), mx.nd.array(Y)).mean().asscalar())
kv = trainer._kvstore
assert kv.type == "dist_async" and kv.num_workers == 2 and trainer._update_on_kvstore
print(f"rank {rank} loss {loss0:.4f} -> {loss:.6f}", flush=True)
sys.exit(0 if loss0 > 1 and loss < 0.01 else 3)
