"""mx.nd.random: samplers with MXNet 1.x's signatures over the registry's random ops (the
generated op functions of this module sit beside them)."""
from ..base import _Null, numeric_types
from ..context import current_context

__all__ = ["uniform", "normal", "randn", "poisson", "exponential", "gamma", "multinomial",
           "shuffle", "randint"]


def _internal():
    from . import _internal as mod
    return mod


def _random_helper(random, params, shape, dtype, ctx, out, kwargs):
    """Scalar parameters draw from `random`; NDArray parameters would need the per-element
    _sample_* ops, which this build does not have."""
    if not all(isinstance(p, numeric_types) for p in params):
        raise NotImplementedError(
            "Distribution parameters must be numbers here (mixnet has no _sample_* ops for "
            "NDArray parameters), got %s" % ", ".join(type(p).__name__ for p in params))
    if ctx is None:
        ctx = current_context()
    if shape is _Null and out is None:
        shape = 1
    return random(*params, shape=shape, dtype=dtype, ctx=ctx, out=out, **kwargs)


def uniform(low=0, high=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw random samples from a uniform distribution over [low, high)."""
    return _random_helper(_internal()._random_uniform, [low, high], shape, dtype, ctx, out,
                          kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw random samples from a normal (Gaussian) distribution."""
    return _random_helper(_internal()._random_normal, [loc, scale], shape, dtype, ctx, out,
                          kwargs)


def randn(*shape, **kwargs):
    """Draw random samples from a normal distribution; the shape is given as varargs."""
    loc = kwargs.pop("loc", 0)
    scale = kwargs.pop("scale", 1)
    dtype = kwargs.pop("dtype", _Null)
    ctx = kwargs.pop("ctx", None)
    out = kwargs.pop("out", None)
    return _random_helper(_internal()._random_normal, [loc, scale], shape or _Null, dtype, ctx,
                          out, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw random samples from a Poisson distribution."""
    return _random_helper(_internal()._random_poisson, [lam], shape, dtype, ctx, out, kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw samples from an exponential distribution with the given scale (1/lambda)."""
    return _random_helper(_internal()._random_exponential, [1.0 / scale], shape, dtype, ctx,
                          out, kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw random samples from a gamma distribution."""
    return _random_helper(_internal()._random_gamma, [alpha, beta], shape, dtype, ctx, out,
                          kwargs)


def multinomial(data, shape=_Null, get_prob=False, out=None, dtype="int32", **kwargs):
    """Concurrent sampling from multiple multinomial distributions (the last axis of `data`
    holds the probabilities)."""
    return _internal()._sample_multinomial(data, shape, get_prob, out=out, dtype=dtype,
                                           **kwargs)


def shuffle(data, **kwargs):
    """Shuffle the elements randomly along the first axis (a new array)."""
    return _internal()._shuffle(data, **kwargs)


def randint(low, high, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Draw random integers from a discrete uniform distribution over [low, high)."""
    return _random_helper(_internal()._random_randint, [low, high], shape, dtype, ctx, out,
                          kwargs)


# Kept aside so that they win over the same-named generated op functions (mx.nd.__init__).
PYTHON_FUNCTIONS = {name: globals()[name] for name in __all__}
