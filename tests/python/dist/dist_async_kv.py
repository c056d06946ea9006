"""dist_async worker (and, by DMLC_ROLE, scheduler/server) for test_dist_async.py: push/pull
semantics, rank 0's init, a big array split across the servers, the optimizer on the servers,
2-bit compression and the errors. Run as every process of the job; prints OK on success."""
import os

import numpy as np

import mixnet as mx  # a server or the scheduler runs its role here and exits

kv = mx.kv.create("dist_async")
rank, nw = kv.rank, kv.num_workers
assert nw == int(os.environ["DMLC_NUM_WORKER"]), nw
shape, big = (3, 2), (50, 40)  # 2000 elements > MXNET_KVSTORE_BIGARRAY_BOUND=1000 in the test

# Init: every worker passes its own value; rank 0's wins.
kv.init(3, mx.nd.full(shape, 1 + rank))
kv.init(9, mx.nd.full(big, 10 + rank))
out = mx.nd.zeros(shape)
kv.pull(3, out=out)
assert (out.asnumpy() == 1).all(), out

# Without an optimizer MXNet's async servers refuse pushes; the error comes at the next sync.
kv.push(3, mx.nd.ones(shape))
kv.pull(3, out=out)
try:
    out.wait_to_read()
    raise AssertionError("push before set_optimizer did not fail")
except mx.MXNetError as e:
    assert "set_optimizer" in str(e), e
kv.barrier()  # every worker's refused push is done before rank 0 sends the optimizer


class MyOpt(mx.optimizer.Optimizer):
    def update(self, index, weight, grad, state):
        weight[:] -= grad


try:
    kv.set_optimizer(MyOpt())
    raise AssertionError("a Python optimizer was sent")
except NotImplementedError as e:
    assert "custom optimizer" in str(e), e

kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, rescale_grad=0.5))
kv.barrier()
# Each worker's push is applied on arrival: w -= 0.1 * 0.5 * g, once per worker.
kv.push(3, mx.nd.full(shape, 2 * (rank + 1)))
g = np.arange(np.prod(big), dtype=np.float32).reshape(big) / 1000
kv.push(9, mx.nd.array(g))
kv.barrier()
kv.pull(3, out=out)
expect = 1 - 0.05 * sum(2 * (r + 1) for r in range(nw))
np.testing.assert_allclose(out.asnumpy(), expect, rtol=1e-6)
bout = mx.nd.zeros(big)
kv.pull(9, out=bout)
np.testing.assert_allclose(bout.asnumpy(), 10 - 0.05 * nw * g, rtol=1e-5)
kv.barrier()

# A pushed value of the wrong shape is refused by the store before anything is sent.
try:
    kv.push(3, mx.nd.ones((2, 2)))
    raise AssertionError("bad shape accepted")
except ValueError as e:
    assert "key 3" in str(e), e
print(f"OK rank {rank}", flush=True)
