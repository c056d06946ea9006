"""mx.image: image decoding, resizing, cropping and the augmenters of MXNet 1.x's mx.image,
computed by mixnet's C++ kernels (libjpeg-turbo and libpng instead of OpenCV)."""
from .image import *  # noqa: F401,F403
from .image import __all__  # noqa: F401
