"""gluon.loss: losses as C++ hybrid blocks (mixnet/gluon/loss.h) with MXNet 1.x's
signatures. Custom losses subclass Loss and define hybrid_forward(self, F, pred, label, ...),
using _apply_weighting and _reshape_like as in MXNet."""
from .. import _core

_loss = _core.loss
Loss = _core.GluonLoss
L2Loss = _loss.L2Loss
L1Loss = _loss.L1Loss
SigmoidBinaryCrossEntropyLoss = _loss.SigmoidBinaryCrossEntropyLoss
SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss
SoftmaxCrossEntropyLoss = _loss.SoftmaxCrossEntropyLoss
SoftmaxCELoss = SoftmaxCrossEntropyLoss
KLDivLoss = _loss.KLDivLoss
CTCLoss = _loss.CTCLoss
HuberLoss = _loss.HuberLoss
HingeLoss = _loss.HingeLoss
SquaredHingeLoss = _loss.SquaredHingeLoss
LogisticLoss = _loss.LogisticLoss
TripletLoss = _loss.TripletLoss
PoissonNLLLoss = _loss.PoissonNLLLoss
CosineEmbeddingLoss = _loss.CosineEmbeddingLoss


def _apply_weighting(F, loss, weight=None, sample_weight=None):
    """loss * sample_weight (broadcast), then * weight (a number), as MXNet's helper."""
    if sample_weight is not None:
        loss = F.broadcast_mul(loss, sample_weight)
    if weight is not None:
        assert isinstance(weight, (int, float)), "weight must be a number"
        loss = loss * weight
    return loss


def _reshape_like(F, x, y):
    """Reshapes x to the same shape as y."""
    return F.reshape_like(x, y)


