"""Symbol files (-symbol.json) exchanged with MXNet 1.9.1, which is the byte oracle.

Symbols are built and saved by MXNet; mixnet (the mixnet_sym_json tool, --sym-json) loads them,
lists them as MXNet does, and re-saves them with the same bytes; MXNet loads mixnet's files back.
"""
import json
import subprocess

import numpy as np
import pytest

mx = pytest.importorskip("mxnet")


def run_tool(sym_json, *args):
    proc = subprocess.run([sym_json, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def listing(sym):
    return {"arguments": sym.list_arguments(), "outputs": sym.list_outputs(),
            "auxiliary_states": sym.list_auxiliary_states(), "inputs": sym.list_inputs()}


# ---- symbols built in MXNet ----

def mlp():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=128, name="fc1")
    act1 = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act1, num_hidden=64, name="fc2")
    act2 = mx.sym.Activation(fc2, act_type="relu", name="relu2")
    fc3 = mx.sym.FullyConnected(act2, num_hidden=10, name="fc3")
    return mx.sym.SoftmaxOutput(fc3, name="softmax")


def lenet_bn():
    data = mx.sym.var("data")
    net = data
    for i, filters in enumerate([20, 50]):
        net = mx.sym.Convolution(net, kernel=(5, 5), num_filter=filters, name=f"conv{i}")
        net = mx.sym.BatchNorm(net, fix_gamma=False, name=f"bn{i}")
        net = mx.sym.Activation(net, act_type="tanh")
        net = mx.sym.Pooling(net, pool_type="max", kernel=(2, 2), stride=(2, 2))
    net = mx.sym.flatten(net)
    net = mx.sym.FullyConnected(net, num_hidden=500)
    net = mx.sym.Activation(net, act_type="tanh")
    net = mx.sym.FullyConnected(net, num_hidden=10)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def multi_output():
    data = mx.sym.var("data")
    parts = mx.sym.split(data, num_outputs=3, axis=1, name="parts")
    bn = mx.sym.BatchNorm(parts[0], output_mean_var=True, name="bn")
    top = mx.sym.topk(parts[2], k=2, ret_typ="both", name="top")
    cat = mx.sym.Concat(*[parts[1]] * 11, dim=1, name="cat")
    return mx.sym.Group([bn[0], bn[2], top, cat, parts[1], data])


def attributes():
    with mx.AttrScope(ctx_group="dev1", __profiler_scope__="body:"):
        data = mx.sym.var("data", shape=(0, 8), dtype=np.float64, lr_mult=0.5, wd_mult=0,
                          init=mx.init.Xavier(magnitude=2.5))
        w = mx.sym.var("w", lr_mult=2.0, init=mx.init.Constant(0.1), __extra__="x")
        fc = mx.sym.FullyConnected(data, weight=w, num_hidden=4, no_bias=True, name="fc",
                                   attr={"__mirror_stage__": "True", "__force_mirroring__": "1"})
    prelu = mx.sym.LeakyReLU(fc, act_type="prelu", name="prelu")
    return mx.sym.BatchNorm(prelu, eps=1e-5, momentum=0.8, name="bn")


def arithmetic():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    return mx.sym.Group([x + y, x - y, x * y, x / y, x + 1, 2 - x, x * 2.5, 3 / x, -x, x ** 2,
                         x ** y, mx.sym.exp(x) + mx.sym.sqrt(y)])


SYMBOLS = {"mlp": mlp, "lenet_bn": lenet_bn, "multi_output": multi_output,
           "attributes": attributes, "arithmetic": arithmetic}


@pytest.fixture(params=sorted(SYMBOLS))
def saved(request, tmp_path):
    sym = SYMBOLS[request.param]()
    path = tmp_path / f"{request.param}-symbol.json"
    sym.save(str(path))
    return sym, path


def test_mixnet_lists_what_mxnet_lists(sym_json, saved):
    sym, path = saved
    assert json.loads(run_tool(sym_json, "list", path)) == listing(sym)


def test_mixnet_resaves_mxnets_bytes(sym_json, saved, tmp_path):
    sym, path = saved
    out = tmp_path / "resaved-symbol.json"
    run_tool(sym_json, "resave", path, out)
    assert out.read_bytes() == path.read_bytes()
    # ... and MXNet loads mixnet's file to the same symbol.
    back = mx.sym.load(str(out))
    assert listing(back) == listing(sym)
    assert back.tojson() == sym.tojson()


def test_inferred_shapes_match(sym_json, tmp_path):
    for name, sym, shapes in [("mlp", mlp(), {"data": (32, 784)}),
                              ("lenet_bn", lenet_bn(), {"data": (8, 1, 28, 28)})]:
        path = tmp_path / f"{name}-symbol.json"
        sym.save(str(path))
        args = [f"{k}={v}" for k, v in shapes.items()]
        got = json.loads(run_tool(sym_json, "shapes", path, *args))
        arg, out, aux = sym.infer_shape(**shapes)
        assert [tuple(s) for s in got["arg"]] == arg
        assert [tuple(s) for s in got["out"]] == out
        assert [tuple(s) for s in got["aux"]] == aux


# ---- single ops: mixnet's op names and output counts are MXNet's ----

def op_cases():
    d, e = mx.sym.var("d"), mx.sym.var("e")
    i = mx.sym.var("i")
    return {
        "Convolution": mx.sym.Convolution(d, kernel=(3, 3), num_filter=4, pad=(1, 1)),
        "Deconvolution": mx.sym.Deconvolution(d, kernel=(2, 2), num_filter=3, stride=(2, 2)),
        "Pooling_max": mx.sym.Pooling(d, kernel=(3, 3), pool_type="max"),
        "Pooling_avg": mx.sym.Pooling(d, kernel=(2, 2), pool_type="avg", stride=(2, 2)),
        "Pooling_global": mx.sym.Pooling(d, kernel=(1, 1), pool_type="max", global_pool=True),
        "Pooling_default": mx.sym.Pooling(d, kernel=(2, 2)),
        "Pooling_nokernel": mx.sym.Pooling(d, pool_type="max", global_pool=True),
        "BatchNorm": mx.sym.BatchNorm(d, name="bn"),
        "LayerNorm": mx.sym.LayerNorm(d),
        "InstanceNorm": mx.sym.InstanceNorm(d),
        "GroupNorm": mx.sym.GroupNorm(d, num_groups=1),
        "LRN": mx.sym.LRN(d, nsize=3),
        "L2Normalization": mx.sym.L2Normalization(d),
        "Activation": mx.sym.Activation(d, act_type="softrelu"),
        "LeakyReLU": mx.sym.LeakyReLU(d, act_type="elu", slope=0.3),
        "softmax": mx.sym.softmax(d, axis=1),
        "log_softmax": mx.sym.log_softmax(d),
        "SoftmaxActivation": mx.sym.SoftmaxActivation(d),
        "SoftmaxOutput": mx.sym.SoftmaxOutput(d, name="out"),
        "LinearRegressionOutput": mx.sym.LinearRegressionOutput(d),
        "MakeLoss": mx.sym.MakeLoss(d),
        "Embedding": mx.sym.Embedding(i, input_dim=10, output_dim=4),
        "FullyConnected": mx.sym.FullyConnected(d, num_hidden=3, flatten=False),
        "Flatten": mx.sym.Flatten(d),
        "Reshape": mx.sym.Reshape(d, shape=(0, -1)),
        "transpose": mx.sym.transpose(d, axes=(1, 0)),
        "expand_dims": mx.sym.expand_dims(d, axis=1),
        "slice_axis": mx.sym.slice_axis(d, axis=1, begin=0, end=2),
        "clip": mx.sym.clip(d, a_min=-1, a_max=1),
        "sum": mx.sym.sum(d, axis=1, keepdims=True),
        "mean": mx.sym.mean(d),
        "max": mx.sym.max(d, axis=0),
        "broadcast_add": mx.sym.broadcast_add(d, e),
        "broadcast_mul": mx.sym.broadcast_mul(d, e),
        "dot": mx.sym.dot(d, e, transpose_b=True),
        "batch_dot": mx.sym.batch_dot(d, e),
        "elemwise": mx.sym.elemwise_add(mx.sym.exp(d), mx.sym.log(mx.sym.abs(e) + 1)),
        "unary": mx.sym.tanh(mx.sym.sigmoid(mx.sym.relu(mx.sym.square(mx.sym.sqrt(d))))),
        "Concat": mx.sym.Concat(d, e, dim=0),
        "stack": mx.sym.stack(d, e, axis=1),
        "add_n": mx.sym.add_n(d, e, d),
        "split": mx.sym.split(d, num_outputs=2, axis=1),
        "where": mx.sym.where(i, d, e),
        "take": mx.sym.take(d, i),
        "one_hot": mx.sym.one_hot(i, depth=5),
        "topk": mx.sym.topk(d, k=2, ret_typ="both"),
        "sort": mx.sym.sort(d),
        "argmax": mx.sym.argmax(d, axis=1),
        "Cast": mx.sym.Cast(d, dtype="float16"),
        "UpSampling": mx.sym.UpSampling(d, scale=2, sample_type="nearest"),
        "Pad": mx.sym.Pad(d, mode="constant", pad_width=(0, 0, 0, 0, 1, 1, 1, 1)),
        "RNN": mx.sym.RNN(d, mx.sym.var("p"), mx.sym.var("s"), mx.sym.var("c"), state_size=4,
                          num_layers=1, mode="lstm", state_outputs=True),
        "split_one": mx.sym.split(d, num_outputs=1),
        "topk_value": mx.sym.topk(d, k=2, ret_typ="value"),
        "moments": mx.sym.moments(d, axes=(0,)),
        "zeros_like": mx.sym.zeros_like(d),
        "Dropout": mx.sym.Dropout(d, p=0.5),
    }


OPS = op_cases()
@pytest.mark.parametrize("name", sorted(OPS))
def test_single_ops_round_trip(sym_json, tmp_path, name):
    sym = OPS[name]
    path = tmp_path / "op-symbol.json"
    sym.save(str(path))
    assert json.loads(run_tool(sym_json, "list", path)) == listing(sym)
    out = tmp_path / "resaved-symbol.json"
    run_tool(sym_json, "resave", path, out)
    assert out.read_text() == path.read_text()


# ---- old files ----

LEGACY_0_8 = {
    "nodes": [
        {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1,
         "attr": {"ctx_group": "stage1", "lr_mult": "0.2"}},
        {"op": "null", "param": {}, "name": "conv_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "conv_bias", "inputs": [], "backward_source_id": -1},
        {"op": "Convolution", "name": "conv",
         "param": {"kernel": "(3, 3)", "num_filter": "4", "pad": "(1, 1)", "no_bias": "False"},
         "inputs": [[0, 0], [1, 0], [2, 0]], "backward_source_id": -1,
         "attr": {"weight_lr_mult": "0.5", "bias_wd_mult": "0", "mirror_stage": "True"}},
        {"op": "null", "param": {}, "name": "bn_gamma", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "bn_beta", "inputs": [], "backward_source_id": -1},
        {"op": "BatchNorm", "name": "bn",
         "param": {"eps": "0.001", "fix_gamma": "True", "momentum": "0.9"},
         "inputs": [[3, 0], [4, 0], [5, 0]], "backward_source_id": -1},
        {"op": "Activation", "param": {"act_type": "relu"}, "name": "relu",
         "inputs": [[6, 0]], "backward_source_id": -1},
        {"op": "argmax", "param": {"axis": "-1"}, "name": "best", "inputs": [[7, 0]],
         "backward_source_id": -1},
    ],
    "arg_nodes": [0, 1, 2, 4, 5],
    "heads": [[7, 0], [8, 0]],
}


def without_versions(text):
    """The JSON with entry versions dropped (see the note in test_legacy_file_upgrades)."""
    graph = json.loads(text)
    for node in graph["nodes"]:
        node["inputs"] = [e[:2] for e in node["inputs"]]
    graph["heads"] = [e[:2] for e in graph["heads"]]
    return graph


def test_legacy_file_upgrades_as_mxnet_does(sym_json, tmp_path):
    path = tmp_path / "legacy-symbol.json"
    path.write_text(json.dumps(LEGACY_0_8, indent=2))
    upgraded = mx.sym.load(str(path))
    assert json.loads(run_tool(sym_json, "list", path)) == listing(upgraded)
    out = tmp_path / "resaved-symbol.json"
    run_tool(sym_json, "resave", path, out)
    # MXNet's upgrade appends BatchNorm's moving statistics without counting the in-place
    # write (version 0); mixnet counts it as for any graph (version 1). Everything else,
    # attribute moves and node order included, is the same.
    assert without_versions(out.read_text()) == without_versions(upgraded.tojson())
    assert listing(mx.sym.load(str(out))) == listing(upgraded)


def test_mxnet_loads_what_mixnet_composed(sym_json, tmp_path):
    # mixnet's writer on a graph mixnet built itself (a legacy file, upgraded) is valid MXNet.
    path = tmp_path / "legacy-symbol.json"
    path.write_text(json.dumps(LEGACY_0_8))
    out = tmp_path / "mixnet-symbol.json"
    run_tool(sym_json, "resave", path, out)
    sym = mx.sym.load(str(out))
    arg, out_shapes, aux = sym.infer_shape(data=(2, 3, 8, 8))
    assert out_shapes[0] == (2, 4, 8, 8)
    assert aux == [(4,), (4,)]


# ---- real networks: Gluon's model zoo, hybridized and exported by MXNet ----

@pytest.mark.parametrize("model,size", [("resnet18_v1", 64), ("resnet18_v2", 64),
                                        ("mobilenetv2_0.25", 64), ("vgg11_bn", 32),
                                        ("squeezenet1.0", 224), ("densenet121", 224),
                                        ("inceptionv3", 299)])
def test_model_zoo_exports(sym_json, tmp_path, model, size):
    from mxnet.gluon.model_zoo import vision
    net = vision.get_model(model, pretrained=False)
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros((1, 3, size, size)))
    net.export(str(tmp_path / model))
    path = tmp_path / f"{model}-symbol.json"
    sym = mx.sym.load(str(path))
    assert json.loads(run_tool(sym_json, "list", path)) == listing(sym)
    out = tmp_path / "resaved-symbol.json"
    run_tool(sym_json, "resave", path, out)
    assert out.read_bytes() == path.read_bytes()
    shape = (2, 3, size, size)
    got = json.loads(run_tool(sym_json, "shapes", path, f"data={shape}"))
    arg, out_shapes, aux = sym.infer_shape(data=shape)
    assert [tuple(s) for s in got["arg"]] == arg
    assert [tuple(s) for s in got["out"]] == out_shapes
    assert [tuple(s) for s in got["aux"]] == aux
