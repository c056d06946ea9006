"""gluon.model_zoo: predefined and pretrained models (vision)."""
from . import vision
