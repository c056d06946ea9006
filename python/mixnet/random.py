"""mx.random: seeding, and the samplers of mx.nd.random."""
from . import _core
from .ndarray.random import (uniform, normal, randn, poisson, exponential, gamma,  # noqa: F401
                             multinomial, shuffle, randint)


def seed(seed_state, ctx="all"):
    """Seeds the random number generators in mixnet.

    This affects the behavior of modules in mixnet that use random numbers, like dropout and
    the initializers. Random ops already pushed are not affected: the seed is ordered after
    them, so the same seed followed by the same ops gives the same numbers.

    Parameters
    ----------
    seed_state : int
        The random number seed.
    ctx : Context
        The device context of the generator. The default is "all" which means seeding random
        number generators of all devices.
    """
    if not isinstance(seed_state, int):
        raise ValueError("seed_state must be int")
    _core._seed(seed_state, ctx)
