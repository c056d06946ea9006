"""Gluon model-zoo networks between MXNet 1.9.1 and mixnet (mixnet_zoo_run).

Every network of MXNet's vision.get_model has, in mixnet, the same parameters under the same
prefixed names (collect_params) and structural names (save_parameters), with the same shapes
before the first forward. For a selection of networks at small inputs, MXNet saves random
weights (random BatchNorm statistics too) both ways, save_parameters and the legacy
save_params (collect_params().save(strip_prefix=net.prefix)); mixnet's GetModel(pretrained
from the first) predicts what MXNet predicts, eagerly and hybridized, and loading the second
gives the same parameters.
"""
import subprocess

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon.model_zoo import vision

ALL_MODELS = sorted([
    "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
    "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2",
    "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "alexnet", "densenet121", "densenet161", "densenet169", "densenet201",
    "squeezenet1.0", "squeezenet1.1", "inceptionv3",
    "mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25",
    "mobilenetv2_1.0", "mobilenetv2_0.75", "mobilenetv2_0.5", "mobilenetv2_0.25"])

CLASSES = 7

# (name, batch, input height/width): every block type at the smallest inputs each network
# takes (batch 2 where cheap); kept under a minute in all.
PREDICTED = [
    ("resnet18_v1", 2, 32), ("resnet18_v2", 2, 32), ("resnet50_v1", 1, 32),
    ("resnet50_v2", 1, 32), ("vgg11", 2, 32), ("alexnet", 2, 63), ("densenet121", 1, 221),
    ("squeezenet1.0", 1, 217), ("squeezenet1.1", 1, 210), ("mobilenet1.0", 2, 32),
    ("mobilenet0.25", 2, 32), ("mobilenetv2_1.0", 2, 32), ("inceptionv3", 1, 299)]


def run(tool, *args):
    result = subprocess.run([tool, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def mxnet_names(name):
    with mx.name.NameManager():  # fresh counters: "resnetv10_", as mixnet's ResetBlockNames
        net = vision.get_model(name, classes=CLASSES)
    structural = {id(p): s for s, p in net._collect_params_with_prefix().items()}
    return ["%s %s %s" % (structural[id(p)], full, "x".join(map(str, p.shape)))
            for full, p in net.collect_params().items()]


def test_parameter_names_and_shapes_match_mxnet(zoo_run):
    out = run(zoo_run, "names", CLASSES, *ALL_MODELS)
    got, current = {}, None
    for line in out.splitlines():
        if line.startswith("== "):
            current = line[3:]
            got[current] = []
        else:
            got[current].append(line)
    assert sorted(got) == ALL_MODELS
    for name in ALL_MODELS:
        want = mxnet_names(name)
        assert len(got[name]) == len(want), name
        for g, w in zip(got[name], want):
            assert g == w, "%s: mixnet %r, MXNet %r" % (name, g, w)


def randomize_statistics(net, rng):
    # Non-trivial BatchNorm statistics, so that inference-mode BatchNorm is really checked.
    for full, p in net.collect_params().items():
        if full.endswith("running_mean"):
            p.set_data(mx.nd.array(rng.uniform(-0.5, 0.5, p.shape)))
        elif full.endswith("running_var"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 2.0, p.shape)))


@pytest.mark.parametrize("name,batch,size", PREDICTED, ids=[p[0] for p in PREDICTED])
def test_mixnet_predicts_mxnet_weights(zoo_run, tmp_path, name, batch, size):
    rng = np.random.RandomState(7)
    mx.random.seed(7)
    with mx.name.NameManager():
        net = vision.get_model(name, classes=CLASSES)
    net.initialize(mx.init.Xavier(magnitude=2.0))
    x = mx.nd.array(rng.uniform(-1, 1, (batch, 3, size, size)))
    net(x)  # finishes deferred initialisation
    randomize_statistics(net, rng)
    want = net(x).asnumpy()

    structural, legacy = tmp_path / "structural.params", tmp_path / "legacy.params"
    net.save_parameters(str(structural))
    net.collect_params().save(str(legacy), strip_prefix=net.prefix)  # the old save_params
    mx.nd.save(str(tmp_path / "data.params"), {"data": x})
    run(zoo_run, "predict", name, CLASSES, tmp_path / "data.params", tmp_path / "out.params",
        structural, legacy)
    got = mx.nd.load(str(tmp_path / "out.params"))
    assert len(got) == 2
    for i, what in enumerate(["eager", "hybridized"]):
        np.testing.assert_allclose(got[i].asnumpy(), want, rtol=1e-4, atol=1e-4,
                                   err_msg="%s (%s)" % (name, what))
