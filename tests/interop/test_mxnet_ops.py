"""mixnet's operators against MXNet 1.9.1's on the same inputs and attributes.

Each case runs the op in MXNet, saves the inputs in MXNet's .params format, runs the same op
in mixnet through the mixnet_op_run tool, and compares the outputs.
"""
import subprocess

import mxnet as mx
import numpy as np
import pytest

RNG = np.random.RandomState(7)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def labels(n, classes, *shape):
    return RNG.randint(0, classes, size=(n,) + shape).astype("float32")


def rnn_params(mode, layers, dirs, c, h):
    gates = {"rnn_relu": 1, "rnn_tanh": 1, "gru": 3, "lstm": 4}[mode]
    size = 0
    for layer in range(layers):
        inp = c if layer == 0 else h * dirs
        size += dirs * (gates * h * (inp + h) + 2 * gates * h)
    return rand(size, low=-0.5, high=0.5)


def rnn_case(mode, layers=1, bidirectional=False, state_outputs=False):
    t, n, c, h = 3, 2, 4, 5
    dirs = 2 if bidirectional else 1
    inputs = [rand(t, n, c), rnn_params(mode, layers, dirs, c, h), rand(layers * dirs, n, h)]
    if mode == "lstm":
        inputs.append(rand(layers * dirs, n, h))
    attrs = {"state_size": str(h), "num_layers": str(layers), "mode": mode,
             "bidirectional": str(bidirectional), "state_outputs": str(state_outputs)}
    return pytest.param("RNN", inputs, attrs, False,
                        id=f"RNN-{mode}-{layers}l-{'bi' if bidirectional else 'uni'}")


CASES = [
    rnn_case("rnn_tanh"), rnn_case("rnn_relu"), rnn_case("gru"), rnn_case("lstm"),
    rnn_case("lstm", layers=2, bidirectional=True, state_outputs=True),
    rnn_case("gru", layers=2, bidirectional=True, state_outputs=True),
    pytest.param("Pooling", [rand(2, 3, 5, 5)],
                 {"kernel": "(2, 2)", "stride": "(2, 2)", "pool_type": "max"}, False, id="maxpool"),
    pytest.param("Pooling", [rand(2, 3, 5, 5)],
                 {"kernel": "(3, 3)", "stride": "(2, 2)", "pool_type": "avg",
                  "pooling_convention": "full"}, False, id="avgpool-full"),
    pytest.param("Pooling", [rand(2, 3, 6, 6)],
                 {"kernel": "(3, 3)", "stride": "(2, 2)", "pad": "(1, 1)", "pool_type": "avg",
                  "count_include_pad": "False"}, False, id="avgpool-nopad"),
    pytest.param("Pooling", [rand(2, 3, 4, 4)], {"global_pool": "True", "kernel": "(1, 1)",
                                                 "pool_type": "sum"}, False, id="globalsum"),
    pytest.param("Convolution", [rand(2, 4, 7, 7), rand(6, 2, 3, 3), rand(6)],
                 {"kernel": "(3, 3)", "num_filter": "6", "stride": "(2, 1)", "pad": "(1, 0)",
                  "dilate": "(1, 2)", "num_group": "2"}, False, id="conv-grouped"),
    pytest.param("Deconvolution", [rand(2, 3, 4, 4), rand(3, 2, 3, 3)],
                 {"kernel": "(3, 3)", "num_filter": "2", "stride": "(2, 2)", "pad": "(1, 1)",
                  "adj": "(1, 1)"}, False, id="deconv-adj"),
    pytest.param("FullyConnected", [rand(2, 3, 4), rand(5, 4), rand(5)],
                 {"num_hidden": "5", "flatten": "False"}, False, id="fc-noflatten"),
    pytest.param("BatchNorm", [rand(4, 3, 2, 2), rand(3), rand(3), rand(3), rand(3, low=0.5)],
                 {"fix_gamma": "False"}, False, id="batchnorm-inference"),
    pytest.param("BatchNorm", [rand(4, 3, 2, 2), rand(3), rand(3), rand(3), rand(3, low=0.5)],
                 {"fix_gamma": "False"}, True, id="batchnorm-training"),
    pytest.param("LayerNorm", [rand(3, 4), rand(4), rand(4)], {}, False, id="layernorm"),
    pytest.param("InstanceNorm", [rand(2, 3, 4), rand(3), rand(3)], {}, False, id="instancenorm"),
    pytest.param("GroupNorm", [rand(2, 4, 3), rand(2), rand(2)], {"num_groups": "2"}, False,
                 id="groupnorm"),
    pytest.param("LRN", [rand(2, 5, 3, 3)], {"nsize": "3"}, False, id="lrn"),
    pytest.param("L2Normalization", [rand(2, 3, 4)], {"mode": "channel"}, False, id="l2norm"),
    pytest.param("SoftmaxOutput", [rand(2, 3, 4), labels(2, 4, 3)], {}, False, id="softmaxout-3d"),
    pytest.param("SoftmaxOutput", [rand(2, 3, 4), labels(2, 4, 3)], {"preserve_shape": "True"},
                 False, id="softmaxout-preserve"),
    pytest.param("SoftmaxOutput", [rand(2, 3, 4), labels(2, 3, 4)], {"multi_output": "True"},
                 False, id="softmaxout-multi"),
    pytest.param("softmax", [rand(3, 5)], {"temperature": "2.0"}, False, id="softmax-temp"),
    pytest.param("log_softmax", [rand(3, 5)], {"axis": "0"}, False, id="log_softmax"),
    pytest.param("SoftmaxActivation", [rand(2, 3, 4)], {}, False, id="softmaxact-instance"),
    pytest.param("SoftmaxActivation", [rand(2, 3, 2, 2)], {"mode": "channel"}, False,
                 id="softmaxact-channel"),
    pytest.param("LeakyReLU", [rand(3, 4)], {"act_type": "elu", "slope": "0.3"}, False, id="elu"),
    pytest.param("LeakyReLU", [rand(3, 4)], {"act_type": "selu"}, False, id="selu"),
    pytest.param("LeakyReLU", [rand(3, 4)], {"act_type": "gelu"}, False, id="gelu"),
    pytest.param("Activation", [rand(3, 4)], {"act_type": "softrelu"}, False, id="softrelu"),
    pytest.param("sum", [rand(2, 3, 4)], {"axis": "(0, 2)", "keepdims": "True"}, False, id="sum"),
    pytest.param("norm", [rand(2, 3)], {"ord": "1", "axis": "1"}, False, id="norm1"),
    pytest.param("argmax", [rand(3, 4)], {"axis": "1"}, False, id="argmax"),
    pytest.param("topk", [rand(3, 5)], {"k": "2", "ret_typ": "both"}, False, id="topk-both"),
    pytest.param("sort", [rand(3, 5)], {"is_ascend": "False"}, False, id="sort"),
    pytest.param("argsort", [rand(3, 5)], {}, False, id="argsort"),
    pytest.param("take", [rand(4, 3), np.array([0, 5, -1], dtype="float32")], {"mode": "wrap"},
                 False, id="take-wrap"),
    pytest.param("pick", [rand(3, 4), np.array([0, 3, 1], dtype="float32")], {"axis": "1"},
                 False, id="pick"),
    pytest.param("one_hot", [np.array([1, 0, 3], dtype="float32")], {"depth": "4"}, False,
                 id="one_hot"),
    pytest.param("gather_nd", [rand(3, 4), np.array([[0, 2], [1, 3]], dtype="float32")], {},
                 False, id="gather_nd"),
    pytest.param("slice", [rand(4, 5)], {"begin": "(3, None)", "end": "(0, None)",
                                         "step": "(-1, 2)"}, False, id="slice-negstep"),
    pytest.param("Reshape", [rand(2, 3, 4)], {"shape": "(-4, 1, 2, -2)"}, False, id="reshape-4"),
    pytest.param("Reshape", [rand(10, 5, 4)], {"shape": "(-1, 0)", "reverse": "True"}, False,
                 id="reshape-reverse"),
    pytest.param("transpose", [rand(2, 3, 4)], {"axes": "(1, 0, 2)"}, False, id="transpose"),
    pytest.param("repeat", [rand(2, 3)], {"repeats": "2", "axis": "1"}, False, id="repeat"),
    pytest.param("tile", [rand(2, 3)], {"reps": "(2, 1, 2)"}, False, id="tile"),
    pytest.param("UpSampling", [rand(1, 2, 3, 3)], {"scale": "2", "sample_type": "nearest",
                                                    "num_args": "1"}, False, id="upsampling"),
    pytest.param("Embedding", [np.array([[0, 2], [3, 1]], dtype="float32"), rand(4, 3)],
                 {"input_dim": "4", "output_dim": "3"}, False, id="embedding"),
    pytest.param("broadcast_mod", [rand(2, 3, low=-5, high=5), rand(1, 3, low=1, high=3)], {},
                 False, id="broadcast_mod"),
    pytest.param("_power", [rand(2, 3, low=0.5, high=2), rand(2, 3)], {}, False, id="power"),
    pytest.param("Pad", [rand(1, 2, 3, 3)], {"mode": "reflect",
                                             "pad_width": "(0, 0, 0, 0, 1, 1, 2, 2)"}, False,
                 id="pad-reflect"),
    pytest.param("smooth_l1", [rand(3, 4, low=-2, high=2)], {"scalar": "1.5"}, False,
                 id="smooth_l1"),
    pytest.param("moments", [rand(3, 4)], {"axes": "(1,)"}, False, id="moments"),
]


def mxnet_outputs(op, inputs, attrs, train):
    args = [mx.nd.array(x) for x in inputs]
    fn = getattr(mx.nd, op, None) or getattr(mx.nd._internal, op)  # _power is internal
    if train:
        with mx.autograd.train_mode():
            out = fn(*args, **attrs)
    else:
        out = fn(*args, **attrs)
    return [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("op,inputs,attrs,train", CASES)
def test_op_matches_mxnet(op_run, tmp_path, op, inputs, attrs, train):
    want = mxnet_outputs(op, inputs, attrs, train)
    src, dst = tmp_path / "in.params", tmp_path / "out.params"
    mx.nd.save(str(src), [mx.nd.array(x) for x in inputs])
    cmd = [op_run, op, str(src), str(dst)] + (["--train"] if train else [])
    cmd += [f"{k}={v}" for k, v in attrs.items()]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    got = [a.asnumpy() for a in mx.nd.load(str(dst))]
    # MXNet hides some outputs (BatchNorm's mean/var); compare what both return.
    assert len(got) >= len(want), (len(got), len(want))
    for i, w in enumerate(want):
        assert got[i].shape == w.shape, f"output {i}: shape {got[i].shape} vs MXNet {w.shape}"
        np.testing.assert_allclose(got[i], w, rtol=1e-4, atol=1e-5, err_msg=f"output {i}")
