"""dist_async worker for test_dist_async.py: worker 1 dies (SIGKILL) after init; worker 0 keeps
pushing and pulling and must get the scheduler's error naming the dead worker."""
import os
import signal
import time

import mixnet as mx  # a server or the scheduler runs its role here and exits

kv = mx.kv.create("dist_async")
kv.init(0, mx.nd.ones((4,)))
kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.01))
if kv.rank == 1:
    os.kill(os.getpid(), signal.SIGKILL)
out = mx.nd.zeros((4,))
start = time.time()
try:
    while True:
        kv.push(0, mx.nd.ones((4,)))
        kv.pull(0, out=out)
        out.wait_to_read()
        kv.barrier()  # waits for the dead worker until the scheduler gives up on it
except mx.MXNetError as e:
    print(f"rank 0 error after {time.time() - start:.1f} s: {e}", flush=True)
    raise SystemExit(2)
