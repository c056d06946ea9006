"""mx.gluon: Python blocks over the C++ gluon (naming, hybridize, export/import, parameters,
checkpoints, hooks), the layers' MXNet signatures, losses against hand-computed values, the
Trainer's SGD arithmetic, the model zoo, rnn, utils and the data placeholder."""
import gc
import os
import weakref

import numpy as np
import pytest

import mixnet as mx
from mixnet import gluon
from mixnet.gluon import nn



@pytest.fixture(autouse=True)
def fresh_names():
    """Top-level block counters start at 0 in every test (dense0, net0, ...)."""
    mx._core._reset_block_names()
    yield


def rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def nd(a):
    return mx.nd.array(np.asarray(a, dtype=np.float32))


class Net(gluon.HybridBlock):
    """The MXNet 1.x idiom: children and a parameter set in __init__, hybrid_forward."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.fc1 = nn.Dense(8, activation="relu")
            self.weight = self.params.get("weight", shape=(3, 8))

    def hybrid_forward(self, F, x, weight):
        return F.FullyConnected(self.fc1(x), weight, no_bias=True, num_hidden=3)


def reference_net(net, x):
    """Net's forward in NumPy from its parameters."""
    w1 = net.fc1.weight.data().asnumpy()
    b1 = net.fc1.bias.data().asnumpy()
    w = net.weight.data().asnumpy()
    return np.maximum(x @ w1.T + b1, 0) @ w.T


# ---- Python blocks ----

def test_python_hybrid_block_names_and_parameters():
    net = Net()
    assert net.prefix == "net0_" and net.name == "net0"
    assert list(net.collect_params().keys()) == ["net0_weight", "net0_dense0_weight",
                                                 "net0_dense0_bias"]
    assert list(net._reg_params) == ["weight"]
    assert list(net._children) == ["fc1"]
    assert net.fc1.prefix == "net0_dense0_"
    assert Net().prefix == "net1_"
    assert Net(prefix="mine_").collect_params().keys()[0] == "mine_weight"


def test_python_hybrid_block_eager_hybridized_export_import(tmp_path):
    net = Net()
    net.initialize()
    x = rand(4, 5)
    eager = net(nd(x)).asnumpy()
    np.testing.assert_allclose(eager, reference_net(net, x), rtol=1e-5, atol=1e-6)
    net.hybridize()
    first = net(nd(x)).asnumpy()  # traces
    second = net(nd(x)).asnumpy()  # replays the cached graph
    assert net._num_traces == 1
    np.testing.assert_allclose(first, eager, rtol=1e-6)
    np.testing.assert_allclose(second, eager, rtol=1e-5, atol=1e-6)
    sym_file, param_file = net.export(str(tmp_path / "net"), epoch=3)
    assert sym_file.endswith("net-symbol.json") and param_file.endswith("net-0003.params")
    imported = gluon.SymbolBlock.imports(sym_file, ["data"], param_file)
    np.testing.assert_allclose(imported(nd(x)).asnumpy(), eager, rtol=1e-5, atol=1e-6)
    assert sorted(imported.collect_params().keys()) == sorted(net.collect_params().keys())


def test_export_before_a_hybridized_call_names_the_fix(tmp_path):
    net = Net()
    net.initialize()
    with pytest.raises(ValueError, match="hybridize"):
        net.export(str(tmp_path / "net"))


class Scale(gluon.HybridBlock):
    """A Python block keeping a Python attribute and a C++ child."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        with self.name_scope():
            self.dense = nn.Dense(4)

    def hybrid_forward(self, F, x):
        return self.dense(x) * self.factor


def test_python_block_inside_cpp_container(tmp_path):
    seq = nn.HybridSequential()
    with seq.name_scope():
        seq.add(Scale(2.0), nn.Dense(3))
    gc.collect()  # the Scale object lives on through the container alone
    assert list(seq.collect_params().keys()) == [
        "hybridsequential0_scale0_dense0_weight", "hybridsequential0_scale0_dense0_bias",
        "hybridsequential0_dense0_weight", "hybridsequential0_dense0_bias"]
    assert isinstance(seq[0], Scale) and seq[0].factor == 2.0 and len(seq) == 2
    seq.initialize()
    x = rand(2, 6)
    eager = seq(nd(x)).asnumpy()
    d0, d1 = seq[0].dense, seq[1]
    ref = (x @ d0.weight.data().asnumpy().T + d0.bias.data().asnumpy()) * 2.0
    ref = ref @ d1.weight.data().asnumpy().T + d1.bias.data().asnumpy()
    np.testing.assert_allclose(eager, ref, rtol=1e-5, atol=1e-6)
    seq.hybridize()
    seq(nd(x))
    np.testing.assert_allclose(seq(nd(x)).asnumpy(), eager, rtol=1e-5, atol=1e-6)
    sym_file, param_file = seq.export(str(tmp_path / "seq"))
    back = gluon.SymbolBlock.imports(sym_file, "data", param_file)
    np.testing.assert_allclose(back(nd(x)).asnumpy(), eager, rtol=1e-5, atol=1e-6)
    assert "Scale(\n    (dense): Dense(6 -> 4, linear)\n  )" in repr(seq)


def test_python_block_released_with_its_container():
    seq = nn.HybridSequential()
    child = Scale(1.0)
    ref = weakref.ref(child)
    seq.add(child)
    del child
    gc.collect()
    assert ref() is not None  # held by the container
    del seq
    gc.collect()
    assert ref() is None


class TwoHeads(gluon.Block):
    """A plain Block: several inputs (one a list), several outputs, Python control flow."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.body = nn.Dense(2, in_units=3)

    def forward(self, x, pair, flag):
        y = self.body(x)
        if flag:
            y = y + pair[0] * pair[1]
        return y, [y * 2, x]


def test_block_nested_inputs_and_outputs():
    net = TwoHeads()
    net.initialize()
    x = rand(2, 3)
    a, b = nd(np.ones((2, 2))), nd(np.full((2, 2), 3.0))
    y, (y2, xx) = net(nd(x), [a, b], True)
    body = x @ net.body.weight.data().asnumpy().T + net.body.bias.data().asnumpy()
    np.testing.assert_allclose(y.asnumpy(), body + 3.0, rtol=1e-5)
    np.testing.assert_allclose(y2.asnumpy(), 2 * (body + 3.0), rtol=1e-5)
    np.testing.assert_allclose(xx.asnumpy(), x)
    y, _ = net(nd(x), [a, b], False)
    np.testing.assert_allclose(y.asnumpy(), body, rtol=1e-5)


class ForwardStyle(gluon.HybridBlock):
    """A HybridBlock with forward() instead of hybrid_forward (it is traced all the same)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bias = self.params.get("bias", shape=(3,), init="ones")

    def forward(self, x):
        return mx.nd.broadcast_add(x, self.bias.data())


def test_hybrid_block_with_forward():
    blk = ForwardStyle()
    blk.initialize()
    x = rand(2, 3)
    np.testing.assert_allclose(blk(nd(x)).asnumpy(), x + 1)
    blk.hybridize()
    blk(nd(x))
    np.testing.assert_allclose(blk(nd(x)).asnumpy(), x + 1)
    assert blk._num_traces == 1


def test_errors_in_python_forward_reach_the_caller():
    class Bad(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            raise KeyError("boom")

    class NotArrays(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return 3

    bad = Bad()
    for active in (False, True):
        bad.hybridize(active)
        with pytest.raises(KeyError, match="boom"):
            bad(nd([1.0]))
    with pytest.raises(TypeError, match="must return NDArrays"):
        NotArrays()(nd([1.0]))
    with pytest.raises(TypeError, match="NDArrays"):
        nn.Dense(2)(np.ones((2, 2)))


def test_block_without_forward_raises():
    class Empty(gluon.HybridBlock):
        pass

    with pytest.raises(NotImplementedError, match="hybrid_forward"):
        Empty()(nd(np.ones(2)))


def test_hooks_apply_cast_zero_grad_summary(capsys):
    net = Net()
    net.initialize()
    seen = []
    pre = net.register_forward_pre_hook(lambda blk, inputs: seen.append(("pre", blk.name)))
    post = net.fc1.register_forward_hook(
        lambda blk, inputs, output: seen.append(("post", blk.name, output.shape)))
    net(nd(rand(2, 5)))
    assert seen == [("pre", "net0"), ("post", "net0_dense0", (2, 8))]
    pre.detach()
    post.detach()
    net(nd(rand(2, 5)))
    assert len(seen) == 2
    names = []
    assert net.apply(lambda b: names.append(b.name)) is net
    assert names == ["net0_dense0_relu", "net0_dense0", "net0"]  # children first
    net.cast("float64")
    assert net.weight.dtype == np.float64 and net.fc1.weight.dtype == np.float64
    net.cast("float32")
    net.zero_grad()
    assert not net.weight.grad().asnumpy().any()
    net.summary(nd(rand(2, 5)))
    out = capsys.readouterr().out
    assert "Output Shape" in out and "Total params: 72" in out  # 5*8 + 8 + 3*8
    assert "Dense-2" in out and "Net-3" in out  # the Python class's name


class Deferred(gluon.HybridBlock):
    """A parameter whose second dimension comes from the first input (infer_shape)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=(3, 0), init="ones")

    def infer_shape(self, x):
        self.weight.shape = (3, x.shape[1])

    def hybrid_forward(self, F, x, weight):
        return F.FullyConnected(x, weight, no_bias=True, num_hidden=3)


def test_deferred_parameter_shape_from_infer_shape():
    blk = Deferred()
    blk.initialize()
    assert blk.weight._deferred
    x = rand(2, 4)
    np.testing.assert_allclose(blk(nd(x)).asnumpy(), np.tile(x.sum(axis=1, keepdims=True), 3),
                               rtol=1e-5)
    assert blk.weight.shape == (3, 4)


def test_sharing_parameters_through_params():
    d1 = nn.Dense(3, in_units=2)
    d2 = nn.Dense(3, in_units=2, params=d1.params)
    assert d2.weight == d1.weight
    d1.initialize()
    x = nd(rand(4, 2))
    np.testing.assert_array_equal(d2(x).asnumpy(), d1(x).asnumpy())


def test_collect_params_select_and_initialize_force_reinit():
    net = Net()
    assert list(net.collect_params(".*bias").keys()) == ["net0_dense0_bias"]
    assert list(net.collect_params("net0_weight|.*_bias").keys()) == ["net0_weight",
                                                                      "net0_dense0_bias"]
    net.initialize(init="ones")
    net(nd(rand(1, 5)))  # finishes the deferred dense weight
    assert (net.weight.data().asnumpy() == 1).all()
    net.initialize(init="zeros", force_reinit=True)
    assert not net.weight.data().asnumpy().any()


# ---- parameters and checkpoints ----

def test_save_load_parameters_roundtrip(tmp_path):
    net = Net()
    net.initialize()
    x = rand(3, 5)
    y = net(nd(x)).asnumpy()
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    loaded = mx.nd.load(path) if hasattr(mx.nd, "load") else None
    if loaded is not None:
        assert sorted(loaded) == ["fc1.bias", "fc1.weight", "weight"]
    other = Net()  # net1_: structural names do not depend on the prefix
    other.load_parameters(path)
    np.testing.assert_allclose(other(nd(x)).asnumpy(), y, rtol=1e-6)
    with pytest.raises(ValueError, match="fc1.weight"):
        nn.Dense(3, in_units=5).load_parameters(path)


def test_parameter_api():
    p = gluon.Parameter("w", shape=(2, 3), init="ones", lr_mult=2.0)
    assert p.name == "w" and p.shape == (2, 3) and p.grad_req == "write" and p.lr_mult == 2.0
    p.initialize(ctx=mx.cpu(0))
    assert p.list_ctx() == [mx.cpu(0)]
    np.testing.assert_array_equal(p.data().asnumpy(), np.ones((2, 3)))
    p.set_data(np.full((2, 3), 5.0, dtype=np.float32))
    np.testing.assert_array_equal(p.list_data()[0].asnumpy(), np.full((2, 3), 5.0))
    assert p.grad().shape == (2, 3) and len(p.list_grad()) == 1
    p.grad_req = "null"
    with pytest.raises(ValueError):
        p.grad()
    p.wd_mult = 0.5
    assert p.wd_mult == 0.5
    p.cast("float64")
    assert p.data().dtype == np.float64
    assert "Parameter w (shape=(2, 3)" in repr(p)
    deferred = gluon.Parameter("d", shape=(4, 0), allow_deferred_init=True)
    deferred.initialize()
    with pytest.raises(ValueError, match="'d'"):
        deferred.data()
    deferred.shape = (4, 7)
    deferred._finish_deferred_init()
    assert deferred.data().shape == (4, 7)
    c = gluon.Constant("c", np.arange(3, dtype=np.float32))
    assert c.grad_req == "null"
    c.initialize()
    np.testing.assert_array_equal(c.data().asnumpy(), [0, 1, 2])


def test_initializers_by_name_and_by_mxnet_dumps():
    class LikeMXNetConstant:  # any object with MXNet's Initializer.dumps()
        def dumps(self):
            return '["constant", {"value": 0.5}]'

    dense = nn.Dense(2, in_units=3, weight_initializer=LikeMXNetConstant(),
                     bias_initializer="ones")
    dense.initialize()
    np.testing.assert_array_equal(dense.weight.data().asnumpy(), np.full((2, 3), 0.5))
    np.testing.assert_array_equal(dense.bias.data().asnumpy(), np.ones(2))
    with pytest.raises(NotImplementedError, match="nosuch"):
        nn.Dense(2, weight_initializer="nosuch")
    with pytest.raises(TypeError, match="Initializer"):
        nn.Dense(2, weight_initializer=3)


def test_parameter_dict(tmp_path):
    d = gluon.ParameterDict("block_")
    w = d.get("weight", shape=(2, 2), init="ones")
    assert d.get("weight") is w or d.get("weight") == w
    assert "block_weight" in d and len(d) == 1 and d.keys() == ["block_weight"]
    assert d["block_weight"] == w
    with pytest.raises(ValueError):
        d.get("weight", shape=(3, 3))
    other = gluon.ParameterDict("other_")
    other.get("bias", shape=(2,), init="zeros")
    d.update(other)
    assert [k for k, _ in d.items()] == ["block_weight", "other_bias"]
    d.initialize()
    d.setattr("grad_req", "null")
    assert all(p.grad_req == "null" for p in d.values())
    path = str(tmp_path / "d.params")
    d.save(path, strip_prefix="")
    fresh = gluon.ParameterDict()
    fresh.get("block_weight", shape=(2, 2))
    fresh.get("other_bias", shape=(2,))
    fresh.load(path, restore_prefix="")
    np.testing.assert_array_equal(fresh["block_weight"].data().asnumpy(), np.ones((2, 2)))
    d.zero_grad()
    d.reset_ctx(mx.cpu(1))
    assert w.list_ctx() == [mx.cpu(1)]


# ---- layers ----

def test_layer_signatures_shapes_and_reprs():
    x = nd(rand(2, 3, 8, 8))
    conv = nn.Conv2D(4, 3, 2, 1, activation="relu", in_channels=3)
    assert repr(conv).startswith("Conv2D(3 -> 4, kernel_size=(3, 3), stride=(2, 2)")
    conv.initialize()
    assert conv(x).shape == (2, 4, 4, 4)
    assert (conv(x).asnumpy() >= 0).all()
    convt = nn.Conv2DTranspose(2, (2, 2), strides=2)
    convt.initialize()
    assert convt(x).shape == (2, 2, 16, 16)
    assert nn.MaxPool2D()(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2D(pool_size=3, strides=1, padding=1)(x).shape == (2, 3, 8, 8)
    np.testing.assert_allclose(nn.GlobalAvgPool2D()(x).asnumpy(),
                               x.asnumpy().mean(axis=(2, 3), keepdims=True), rtol=1e-5)
    assert nn.Flatten()(x).shape == (2, 192)
    dense = nn.Dense(5, use_bias=False, flatten=False, in_units=8)
    assert repr(dense) == "Dense(8 -> 5, linear)" and list(dense._reg_params) == ["weight"]
    dense.initialize(init="ones")
    assert dense(x).shape == (2, 3, 8, 5)
    bn = nn.BatchNorm(in_channels=3)
    bn.initialize()
    np.testing.assert_allclose(bn(x).asnumpy(), x.asnumpy() / np.sqrt(1 + 1e-5), rtol=1e-5)
    ln = nn.LayerNorm()
    ln.initialize()
    y = ln(x).asnumpy()
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-5)
    emb = nn.Embedding(10, 4, weight_initializer="ones")
    emb.initialize()
    assert emb(nd([[1, 2, 3]])).shape == (1, 3, 4)
    assert nn.Dropout(0.5)(x).shape == x.shape  # not training: identity
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).asnumpy(), x.asnumpy())
    act = nn.Activation("tanh")
    assert act.prefix == "tanh0_"
    np.testing.assert_allclose(act(x).asnumpy(), np.tanh(x.asnumpy()), rtol=1e-5)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(nd([-1.0, 2.0])).asnumpy(), [-0.1, 2.0])
    lam = nn.Lambda(lambda a: a * 3)
    np.testing.assert_allclose(lam(nd([1.0])).asnumpy(), [3.0])
    hl = nn.HybridLambda(lambda F, a: F.relu(a))
    np.testing.assert_allclose(hl(nd([-1.0, 1.0])).asnumpy(), [0.0, 1.0])
    assert nn.HybridLambda("tanh").prefix == "tanh1_"  # named after the function, as MXNet


def test_sequential_container_api():
    net = nn.Sequential()
    with net.name_scope():
        net.add(nn.Dense(4), nn.Dense(3))
        net.add(nn.Dense(2))
    assert len(net) == 3 and net[-1].prefix == "sequential0_dense2_"
    part = net[1:]
    assert isinstance(part, nn.Sequential) and len(part) == 2
    with pytest.raises(IndexError):
        net[3]
    net.initialize()
    assert net(nd(rand(5, 6))).shape == (5, 2)
    assert repr(net) == ("Sequential(\n  (0): Dense(6 -> 4, linear)\n"
                         "  (1): Dense(4 -> 3, linear)\n  (2): Dense(3 -> 2, linear)\n)")


# ---- losses (against NumPy) ----

def test_losses_against_hand_computed_values():
    pred = rand(4, 3, seed=1)
    label = rand(4, 3, seed=2)
    p, l = nd(pred), nd(label)
    loss = gluon.loss
    np.testing.assert_allclose(loss.L2Loss()(p, l).asnumpy(),
                               (0.5 * (label - pred) ** 2).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(loss.L1Loss(weight=2.0)(p, l).asnumpy(),
                               2 * np.abs(label - pred).mean(axis=1), rtol=1e-5)
    sw = nd(np.array([[1], [0], [2], [1]], dtype=np.float32))
    np.testing.assert_allclose(loss.L1Loss()(p, l, sw).asnumpy(),
                               np.abs(label - pred).mean(axis=1) * [1, 0, 2, 1], rtol=1e-5)
    cls = np.array([0, 2, 1, 2], dtype=np.float32)
    logp = pred - np.log(np.exp(pred).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss.SoftmaxCrossEntropyLoss()(p, nd(cls)).asnumpy(),
                               -logp[np.arange(4), cls.astype(int)], rtol=1e-5)
    onehot = np.eye(3, dtype=np.float32)[cls.astype(int)]
    np.testing.assert_allclose(
        loss.SoftmaxCELoss(sparse_label=False)(p, nd(onehot)).asnumpy(),
        -(logp * onehot).sum(axis=1), rtol=1e-5)
    y01 = (label > 0).astype(np.float32)
    bce = np.maximum(pred, 0) - pred * y01 + np.log1p(np.exp(-np.abs(pred)))
    np.testing.assert_allclose(loss.SigmoidBCELoss()(p, nd(y01)).asnumpy(), bce.mean(axis=1),
                               rtol=1e-5)
    d = np.abs(label - pred)
    huber = np.where(d > 0.5, d - 0.25, 0.5 / 0.5 * d ** 2)
    np.testing.assert_allclose(loss.HuberLoss(rho=0.5)(p, l).asnumpy(), huber.mean(axis=1),
                               rtol=1e-5)
    sgn = np.sign(label)
    np.testing.assert_allclose(loss.HingeLoss()(p, nd(sgn)).asnumpy(),
                               np.maximum(0, 1 - pred * sgn).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(loss.SquaredHingeLoss(margin=2)(p, nd(sgn)).asnumpy(),
                               (np.maximum(0, 2 - pred * sgn) ** 2).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(loss.LogisticLoss()(p, nd(sgn)).asnumpy(),
                               np.log1p(np.exp(-pred * sgn)).mean(axis=1), rtol=1e-5)
    target = np.exp(logp[::-1].copy())
    np.testing.assert_allclose(
        loss.KLDivLoss()(nd(logp), nd(target)).asnumpy(),
        (target * (np.log(target) - logp)).sum(axis=1), rtol=1e-5)  # MXNet 1.9.1 sums
    pos, neg = rand(4, 3, seed=3), rand(4, 3, seed=4)
    trip = np.maximum(0, ((pos - pred) ** 2).sum(1) - ((neg - pred) ** 2).sum(1) + 1)
    np.testing.assert_allclose(loss.TripletLoss()(p, nd(pos), nd(neg)).asnumpy(), trip,
                               rtol=1e-5)
    a, b = rand(4, 3, seed=8), rand(4, 3, seed=9)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    lbl = np.array([1, -1, 1, -1], dtype=np.float32)
    np.testing.assert_allclose(
        loss.CosineEmbeddingLoss(margin=0.1)(nd(a), nd(b), nd(lbl)).asnumpy().ravel(),
        np.where(lbl == 1, 1 - cos, np.maximum(0, cos - 0.1)), rtol=1e-4, atol=1e-6)
    counts = np.array([[0.0, 2.0], [1.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(loss.PoissonNLLLoss()(nd(counts * 0.1), nd(counts)).asnumpy(),
                               [np.mean(np.exp(counts * 0.1) - counts * counts * 0.1)],
                               rtol=1e-5)
    assert repr(loss.L2Loss()) == "L2Loss(batch_axis=0, w=1.0)"
    assert loss.L2Loss().prefix.startswith("l2loss")


class ScaledL1(gluon.loss.Loss):
    """A custom loss as in MXNet: hybrid_forward with _apply_weighting."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        loss = F.abs(pred - label)
        loss = gluon.loss._apply_weighting(F, loss, self._weight, sample_weight)
        return F.mean(loss, axis=self._batch_axis, exclude=True)


def test_custom_loss_subclass():
    pred, label = rand(3, 2, seed=5), rand(3, 2, seed=6)
    custom = ScaledL1(weight=3.0)
    assert custom.prefix == "scaledl10_" and custom._weight == 3.0
    np.testing.assert_allclose(custom(nd(pred), nd(label)).asnumpy(),
                               3 * np.abs(pred - label).mean(axis=1), rtol=1e-5)
    custom.hybridize()
    custom(nd(pred), nd(label))
    np.testing.assert_allclose(custom(nd(pred), nd(label)).asnumpy(),
                               3 * np.abs(pred - label).mean(axis=1), rtol=1e-5)


# ---- Trainer ----

def set_grad(arr, value):
    """Writes a gradient as backward would (a registered op writing the buffer)."""
    mx.nd._internal._copy(nd(value), out=arr)


def test_trainer_sgd_step_arithmetic(tmp_path):
    dense = nn.Dense(2, in_units=3)
    dense.initialize()
    w0, b0 = dense.weight.data().asnumpy(), dense.bias.data().asnumpy()
    trainer = gluon.Trainer(dense.collect_params(), "sgd",
                            {"learning_rate": 0.5, "wd": 0.1, "momentum": 0.9})
    assert trainer.learning_rate == 0.5
    gw = rand(2, 3, seed=7)
    gb = np.array([1.0, -2.0], dtype=np.float32)
    set_grad(dense.weight.grad(), gw)
    set_grad(dense.bias.grad(), gb)
    trainer.step(4)
    # SGD with momentum from zero state: w -= lr * (g / batch + wd * w)
    mom_w = -0.5 * (gw / 4 + 0.1 * w0)
    mom_b = -0.5 * (gb / 4 + 0.1 * b0)
    np.testing.assert_allclose(dense.weight.data().asnumpy(), w0 + mom_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dense.bias.data().asnumpy(), b0 + mom_b, rtol=1e-5, atol=1e-7)
    w1, b1 = w0 + mom_w, b0 + mom_b
    with pytest.raises(ValueError, match="dense0_bias"):
        trainer.step(4)  # stale gradients
    set_grad(dense.weight.grad(), gw)
    trainer.step(4, ignore_stale_grad=True)  # bias skipped, weight updated with momentum
    mom_w2 = 0.9 * mom_w - 0.5 * (gw / 4 + 0.1 * w1)
    np.testing.assert_allclose(dense.weight.data().asnumpy(), w1 + mom_w2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.bias.data().asnumpy(), b1, rtol=1e-6)
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == pytest.approx(0.05)
    states = str(tmp_path / "t.states")
    trainer.save_states(states)
    again = gluon.Trainer(dense.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    again.load_states(states)
    with pytest.raises(ValueError, match="nosuch"):
        gluon.Trainer(dense.collect_params(), "nosuch")
    with pytest.raises(ValueError, match="update_on_kvstore"):
        gluon.Trainer(dense.collect_params(), "sgd", kvstore="dist_async", update_on_kvstore=False)


def test_trainer_takes_a_list_of_parameters_and_lr_mult():
    dense = nn.Dense(1, in_units=2, use_bias=False)
    dense.initialize(init="zeros")
    dense.weight.lr_mult = 2.0
    trainer = gluon.Trainer([dense.weight], "sgd", {"learning_rate": 1.0}, kvstore=None)
    set_grad(dense.weight.grad(), [[1.0, 2.0]])
    trainer.step(1)
    np.testing.assert_allclose(dense.weight.data().asnumpy(), [[-2.0, -4.0]])


# ---- model zoo, rnn, utils ----

def test_model_zoo_shapes_and_names():
    vision = gluon.model_zoo.vision
    net = vision.get_model("resnet18_v1", classes=10)
    assert net.prefix == "resnetv10_"
    net.initialize()
    assert net(nd(rand(1, 3, 32, 32))).shape == (1, 10)
    assert list(net.collect_params().keys())[0] == "resnetv10_conv0_weight"
    mob = vision.mobilenet0_25(classes=7)
    mob.initialize()
    assert mob(nd(rand(2, 3, 64, 64))).shape == (2, 7)
    assert callable(vision.resnet50_v2) and callable(vision.vgg16_bn)
    assert isinstance(net.features, nn.HybridSequential)
    # fine-tuning as in MXNet: replace the classifier
    net.output = nn.Dense(2)
    net.output.initialize()
    assert net(nd(rand(1, 3, 32, 32))).shape == (1, 2)
    assert "dense0_weight" in net.collect_params().keys()  # made outside its name_scope
    with pytest.raises(ValueError, match="not supported"):
        vision.get_model("resnet19_v1")
    with pytest.raises(ValueError, match="resnet18_v1"):
        vision.get_model("resnet18_v1", pretrained=True, root="/nonexistent")


def test_model_zoo_resnet_classes():
    """MXNet's vision.ResNetV1/V2(block, layers, channels, classes, thumbnail): with resnet18's
    layout and widths the same network (parameter names and shapes) as get_model's."""
    vision = gluon.model_zoo.vision
    x = nd(rand(2, 3, 28, 28))
    for v, block in ((1, vision.BasicBlockV1), (2, vision.BasicBlockV2)):
        ref = vision.get_model("resnet18_v%d" % v, classes=10, thumbnail=True, prefix="r_")
        net = getattr(vision, "ResNetV%d" % v)(block, [2, 2, 2, 2], [64, 64, 128, 256, 512],
                                                 classes=10, thumbnail=True, prefix="r_")
        assert isinstance(net, vision.ImageClassifier)
        for n in (ref, net):
            n.initialize()
            assert n(x).shape == (2, 10)
        assert [(k, p.shape) for k, p in net.collect_params().items()] == \
            [(k, p.shape) for k, p in ref.collect_params().items()]
    thin = vision.ResNetV1(vision.BottleneckV1, [1, 1], [8, 16, 32], classes=3)
    thin.initialize()
    assert thin(nd(rand(1, 1, 32, 32))).shape == (1, 3)
    assert thin.collect_params()[thin.prefix + "dense0_weight"].shape == (3, 32)
    blk = vision.BasicBlockV1(16, 2, downsample=True, in_channels=8)
    blk.initialize()
    assert blk(nd(rand(1, 8, 6, 6))).shape == (1, 16, 3, 3)
    with pytest.raises(TypeError, match="BasicBlockV1"):
        vision.ResNetV1(nn.Dense, [2], [8, 8])


def test_rnn_layers_and_cells():
    lstm = gluon.rnn.LSTM(5, num_layers=2, layout="NTC", input_size=3)
    lstm.initialize()
    x = nd(rand(2, 4, 3))
    assert lstm(x).shape == (2, 4, 5)
    states = lstm.begin_state(batch_size=2)
    assert [s.shape for s in states] == [(2, 2, 5), (2, 2, 5)]
    out, new_states = lstm(x, states)
    assert out.shape == (2, 4, 5) and [s.shape for s in new_states] == [(2, 2, 5)] * 2
    assert "l0_i2h_weight" in lstm.collect_params().keys()[0]
    cell = gluon.rnn.GRUCell(6, input_size=3)
    cell.initialize()
    h = cell.begin_state(batch_size=2)
    y, h2 = cell(nd(rand(2, 3)), h)
    assert y.shape == (2, 6) and len(h2) == 1
    outputs, st = cell.unroll(4, x, layout="NTC", merge_outputs=True)
    assert outputs.shape == (2, 4, 6) and st[0].shape == (2, 6)
    seq = gluon.rnn.SequentialRNNCell()
    with seq.name_scope():
        seq.add(gluon.rnn.LSTMCell(4))
        seq.add(gluon.rnn.RNNCell(4))
    seq.initialize()
    outputs, st = seq.unroll(4, x, layout="NTC")
    assert len(outputs) == 4 and outputs[0].shape == (2, 4) and len(st) == 3


def test_utils_split_and_load_and_clip_global_norm():
    data = nd(np.arange(12).reshape(6, 2))
    parts = gluon.utils.split_and_load(data, [mx.cpu(0), mx.cpu(1)])
    assert [p.context for p in parts] == [mx.cpu(0), mx.cpu(1)]
    np.testing.assert_array_equal(parts[1].asnumpy(), np.arange(6, 12).reshape(3, 2))
    with pytest.raises(ValueError, match="evenly"):
        gluon.utils.split_and_load(data, [mx.cpu(0)] * 4)
    a, b = nd([3.0, 0.0]), nd([[4.0]])
    norm = gluon.utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(a.asnumpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.asnumpy(), [[0.8]], rtol=1e-5)
    # Under the bound nothing changes; arrays on several contexts take the per-array path; a
    # large array spans several blocks of the fused sum of squares.
    big = np.random.RandomState(0).uniform(-1, 1, 40000).astype(np.float32)
    c, d = nd(big), nd([2.0]).as_in_context(mx.cpu(1))
    ref = float(np.sqrt((big.astype(np.float64) ** 2).sum() + 4.0))
    assert gluon.utils.clip_global_norm([c, d], 1e3) == pytest.approx(ref, rel=1e-6)
    np.testing.assert_array_equal(c.asnumpy(), big)
    assert gluon.utils.clip_global_norm([c], 1.0) == pytest.approx(np.sqrt(ref ** 2 - 4),
                                                                   rel=1e-6)
    assert np.sqrt((c.asnumpy().astype(np.float64) ** 2).sum()) == pytest.approx(1.0, rel=1e-5)


# ---- data placeholder ----

def test_datasets_dataloader_and_transforms(tmp_path):
    xs = np.arange(10, dtype=np.float32).reshape(5, 2)
    ys = np.arange(5, dtype=np.int32)
    ds = gluon.data.ArrayDataset(xs, ys)
    assert len(ds) == 5 and ds[2][1] == 2
    doubled = ds.transform_first(lambda x: x * 2)
    np.testing.assert_array_equal(doubled[1][0], [4, 6])
    batches = list(gluon.data.DataLoader(ds, batch_size=2))
    assert len(batches) == 3 and batches[-1][0].shape == (1, 2)
    assert batches[0][1].dtype == np.int32
    assert len(list(gluon.data.DataLoader(ds, batch_size=2, last_batch="discard"))) == 2
    seen = np.concatenate([b[1].asnumpy() for b in
                           gluon.data.DataLoader(ds, batch_size=2, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(5))
    img = mx.nd.array(np.full((4, 4, 3), 255, dtype=np.uint8), dtype=np.uint8)
    t = gluon.data.vision.transforms
    tensor = t.ToTensor()(img)
    assert tensor.shape == (3, 4, 4) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor.asnumpy(), 1.0)
    norm = t.Compose([t.ToTensor(), t.Normalize((0.5, 0.5, 0.5), (0.25, 0.5, 1.0))])(img)
    np.testing.assert_allclose(norm.asnumpy()[:, 0, 0], [2.0, 1.0, 0.5], rtol=1e-6)
    hybrid = t.Normalize(0.5, 0.25)
    hybrid.hybridize()
    for _ in range(2):
        np.testing.assert_allclose(hybrid(tensor).asnumpy(), 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        gluon.data.vision.FashionMNIST(root=str(tmp_path))


# ---- with mx.sym and mx.autograd (run once py-sym is merged) ----

def test_symbol_block_from_symbols_and_parameter_var():
    data = mx.sym.var("data")
    out = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    blk = gluon.SymbolBlock(out, data)
    assert sorted(blk.collect_params().keys()) == ["fc_bias", "fc_weight"]
    blk.initialize(init="ones")
    x = rand(2, 4)
    np.testing.assert_allclose(blk(nd(x)).asnumpy(), np.tile(x.sum(1, keepdims=True) + 1, 3),
                               rtol=1e-5)
    p = gluon.Parameter("w", shape=(3, 4))
    assert p.var().name == "w"


def test_gradients_through_python_block_eager_and_hybridized():
    from mixnet import autograd
    for hybridize in (False, True):
        mx._core._reset_block_names()
        net = Net()
        net.initialize()
        if hybridize:
            net.hybridize()
        x = rand(2, 5)
        for _ in range(2):  # the second call replays the cached graph
            with autograd.record():
                y = net(nd(x))
                loss = mx.nd.sum(y)
            loss.backward()
        w1 = net.fc1.weight.data().asnumpy()
        b1 = net.fc1.bias.data().asnumpy()
        h = np.maximum(x @ w1.T + b1, 0)
        np.testing.assert_allclose(net.weight.grad().asnumpy(),
                                   np.tile(h.sum(axis=0), (3, 1)), rtol=1e-5, atol=1e-6)


def test_data_parallel_step_over_two_contexts():
    """The classic multi-device loop: split_and_load, one backward per context, one step."""
    from mixnet import autograd
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = nn.Dense(1, in_units=2)
    net.initialize(init="zeros", ctx=ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], dtype=np.float32)
    y = np.array([[1], [2], [3], [4]], dtype=np.float32)
    l2 = gluon.loss.L2Loss()
    with autograd.record():
        losses = [l2(net(xs), ys) for xs, ys in zip(gluon.utils.split_and_load(nd(x), ctxs),
                                                   gluon.utils.split_and_load(nd(y), ctxs))]
    for loss in losses:
        loss.backward()
    trainer.step(4)
    # zero weights: d(0.5 (w.x + b - y)^2)/dw = -y x, summed over the 4 samples / 4
    expected_w = 0.1 * (y * x).sum(axis=0) / 4
    for ctx in ctxs:
        np.testing.assert_allclose(net.weight.data(ctx).asnumpy(), [expected_w], rtol=1e-5)
        np.testing.assert_allclose(net.bias.data(ctx).asnumpy(), [0.1 * y.sum() / 4], rtol=1e-5)


def test_python_initializer_and_optimizer_objects_reach_the_cpp_gluon():
    """mx.init and mx.optimizer objects (Python subclasses too) work with gluon's C++ side."""
    class Halves(mx.init.Initializer):
        def _init_weight(self, name, arr):
            arr[:] = 0.5

    net = gluon.nn.Dense(3, in_units=2)
    net.initialize(Halves())
    np.testing.assert_array_equal(net.weight.data().asnumpy(), np.full((3, 2), 0.5))
    np.testing.assert_array_equal(net.bias.data().asnumpy(), np.zeros(3))  # bias: zeros
    opt = mx.optimizer.SGD(learning_rate=0.1)
    trainer = gluon.Trainer(net.collect_params(), opt)
    assert trainer.optimizer is opt and trainer.learning_rate == pytest.approx(0.1)
    with mx.autograd.record():
        y = net(mx.nd.ones((1, 2))).sum()
    y.backward()
    trainer.step(1)
    # d(sum(W x + b))/dW = 1 for every weight: one SGD step subtracts the learning rate.
    np.testing.assert_allclose(net.weight.data().asnumpy(), np.full((3, 2), 0.4), rtol=1e-6)
