"""gluon.model_zoo.vision: ResNet v1/v2, VGG, AlexNet, DenseNet, SqueezeNet, MobileNet v1/v2
and Inception v3 built in C++ (mixnet/gluon/model_zoo.h) with MXNet 1.9.1's names, so MXNet's
model-store .params files load into them.

Nothing is downloaded: with pretrained=True the weights are read from `root` (MXNet's model
store folder, default ~/.mxnet/models, files NAME-HASH.params as MXNet's get_model_file
names them), and a missing file is a ValueError naming it.
"""
import os

from .... import _core

_zoo = _core.model_zoo
ImageClassifier = _zoo.ImageClassifier
# MXNet's resnet.py classes, for ResNets of other depths and widths:
# ResNetV1(BasicBlockV1, [2, 2, 2, 2], [64, 64, 128, 256, 512], classes=10, thumbnail=True)
ResNetV1, ResNetV2 = _zoo.ResNetV1, _zoo.ResNetV2
BasicBlockV1, BottleneckV1 = _zoo.BasicBlockV1, _zoo.BottleneckV1
BasicBlockV2, BottleneckV2 = _zoo.BasicBlockV2, _zoo.BottleneckV2
_DEFAULT_ROOT = os.path.join("~", ".mxnet", "models")


def get_model(name, **kwargs):
    """Returns a pre-defined model by name.

    Parameters
    ----------
    name : str
        Name of the model ('resnet18_v1', 'vgg16_bn', 'mobilenet0.25', ...).
    pretrained : bool
        Whether to load the pretrained weights for model (from root, no download).
    classes : int
        Number of classes for the output layer.
    ctx : Context, default CPU
        The context in which to load the pretrained weights.
    root : str, default '~/.mxnet/models'
        Location for keeping the model parameters.
    """
    kwargs.setdefault("root", _DEFAULT_ROOT)
    return _zoo.get_model(name.lower(), **kwargs)


def get_resnet(version, num_layers, **kwargs):
    """ResNet V1 or V2 with num_layers in 18, 34, 50, 101, 152."""
    return get_model(f"resnet{num_layers}_v{version}", **kwargs)


def get_vgg(num_layers, **kwargs):
    """VGG with num_layers in 11, 13, 16, 19 (batch_norm=True for the _bn variants)."""
    bn = kwargs.pop("batch_norm", False)
    return get_model(f"vgg{num_layers}" + ("_bn" if bn else ""), **kwargs)


def get_densenet(num_layers, **kwargs):
    """DenseNet with num_layers in 121, 161, 169, 201."""
    return get_model(f"densenet{num_layers}", **kwargs)


def _make(model_name):
    def fn(**kwargs):
        return get_model(model_name, **kwargs)
    fn.__name__ = model_name.replace(".", "_")
    fn.__doc__ = f"The {model_name} model (see get_model for the arguments)."
    return fn


# resnet18_v1(), vgg16_bn(), mobilenet0_25() (MXNet's function names), ...
for _name in _zoo.model_names():
    globals()[_name.replace(".", "_")] = _make(_name)
