"""Tools for testing (mx.test_utils), MXNet 1.x's helpers: comparisons with a useful message,
random arrays and shapes, and the symbolic checks (numeric gradients, forward and backward
against expected values, consistency across contexts and dtypes).

The comparisons work on NumPy copies (NDArrays are converted with asnumpy()), as MXNet's do.
"""
import numbers
import os
from contextlib import contextmanager

import numpy as np
import numpy.testing as npt

from .context import Context, current_context
from .ndarray import NDArray, array as _nd_array, empty as _nd_empty

__all__ = ["default_context", "set_default_context", "default_dtype", "get_rtol", "get_atol",
           "get_tols", "same", "almost_equal", "assert_almost_equal",
           "assert_almost_equal_ignore_nan", "find_max_violation", "rand_shape_2d",
           "rand_shape_3d", "rand_shape_nd", "random_arrays", "random_sample", "rand_ndarray",
           "np_reduce", "assert_exception", "numeric_grad", "check_numeric_gradient",
           "check_symbolic_forward", "check_symbolic_backward", "check_consistency",
           "simple_forward", "environment", "retry"]

_default_ctx = [None]


def default_context():
    """The context tests run on: set_default_context's, else the current one (cpu(0))."""
    return _default_ctx[0] if _default_ctx[0] is not None else current_context()


def set_default_context(ctx):
    """Sets the context default_context() returns."""
    if not isinstance(ctx, Context):
        raise TypeError(f"set_default_context: expected a Context, got {type(ctx).__name__}")
    _default_ctx[0] = ctx


def default_dtype():
    """The dtype of random test data: float32."""
    return np.float32


# MXNet 1.9's default tolerances by dtype.
_RTOLS = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5,
          np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0,
          np.dtype(np.int32): 0, np.dtype(np.uint32): 0, np.dtype(np.int64): 0,
          np.dtype(np.uint64): 0}
_ATOLS = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-20,
          np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0,
          np.dtype(np.int32): 0, np.dtype(np.uint32): 0, np.dtype(np.int64): 0,
          np.dtype(np.uint64): 0}


def _dtype_of(x):
    if isinstance(x, (NDArray, np.ndarray)):
        return np.dtype(x.dtype)
    return np.dtype(np.float64) if isinstance(x, numbers.Number) else np.dtype(np.float32)


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    """rtol, or the default for dtype."""
    return _RTOLS.get(np.dtype(dtype), 1e-5) if rtol is None else rtol


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    """atol, or the default for dtype."""
    return _ATOLS.get(np.dtype(dtype), 1e-20) if atol is None else atol


def get_tols(x, y, rtol, atol):
    """The tolerances for comparing x and y: the looser of their dtypes' defaults."""
    if rtol is None:
        rtol = max(get_rtol(None, _dtype_of(x)), get_rtol(None, _dtype_of(y)))
    if atol is None:
        atol = max(get_atol(None, _dtype_of(x)), get_atol(None, _dtype_of(y)))
    return rtol, atol


def _as_numpy(a):
    if isinstance(a, NDArray):
        return a.asnumpy()
    return np.asarray(a)


def same(a, b):
    """True when a and b are equal element by element (and have the same shape)."""
    return np.array_equal(_as_numpy(a), _as_numpy(b))


def _rel_error(a, b, rtol, atol):
    """|a - b| / (atol + rtol * |b|): above 1 means out of tolerance (NaN where both are NaN
    counts as 0 when equal_nan is handled by the caller)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(a - b) / (atol + rtol * np.abs(b))


def find_max_violation(a, b, rtol=None, atol=None):
    """(index, violation) of the element of a and b furthest out of tolerance (violation > 1
    means out of tolerance)."""
    a, b = _as_numpy(a), _as_numpy(b)
    rtol, atol = get_tols(a, b, rtol, atol)
    a, b = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    violation = _rel_error(a, b, rtol, atol)
    violation = np.where(np.isnan(violation), np.inf, violation)
    index = np.unravel_index(np.argmax(violation), violation.shape) if violation.size else ()
    return index, (float(violation[index]) if violation.size else 0.0)


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """True when |a - b| <= atol + rtol * |b| everywhere (np.allclose's rule)."""
    a, b = _as_numpy(a), _as_numpy(b)
    if not use_broadcast and a.shape != b.shape:
        return False
    rtol, atol = get_tols(a, b, rtol, atol)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """Raises AssertionError unless a and b (NDArrays or NumPy arrays) are equal within
    |a - b| <= atol + rtol * |b|; the message names the location of the largest error, the
    two values there and the share of mismatched elements.

    Parameters
    ----------
    a, b : NDArray or numpy.ndarray (or scalars)
    rtol, atol : float, optional
        Defaults depend on the dtypes (float32: 1e-4 and 1e-3; float64: 1e-5 and 1e-20).
    names : (str, str)
        How the message calls a and b.
    equal_nan : bool
        NaNs at the same places compare equal.
    use_broadcast : bool
        When False, the shapes must be the same.
    mismatches : (int, int)
        Unused (MXNet's limit on listed mismatches); kept for signature compatibility.
    """
    a_np, b_np = _as_numpy(a), _as_numpy(b)
    if not use_broadcast and a_np.shape != b_np.shape:
        raise AssertionError(f"Shape mismatch: {names[0]} has shape {a_np.shape}, "
                             f"{names[1]} has shape {b_np.shape}")
    rtol, atol = get_tols(a_np, b_np, rtol, atol)
    try:
        close = np.isclose(a_np, b_np, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError as e:  # shapes that do not broadcast
        raise AssertionError(f"Shape mismatch: {names[0]} has shape {a_np.shape}, "
                             f"{names[1]} has shape {b_np.shape} ({e})") from None
    if close.all():
        return
    index, rel = find_max_violation(np.where(close, 0, a_np), np.where(close, 0, b_np),
                                    rtol, atol)
    a_b, b_b = np.broadcast_arrays(a_np, b_np)
    mismatch = 100.0 * (close.size - np.count_nonzero(close)) / max(close.size, 1)
    msg = npt.build_err_msg(
        [a_np, b_np],
        err_msg=(f"Error {rel:f} exceeds tolerance rtol={rtol:e}, atol={atol:e} "
                 f"(mismatch {mismatch:f}%).\n"
                 f" Location of maximum error: {index}, {names[0]}={float(a_b[index]):.8f}, "
                 f"{names[1]}={float(b_b[index]):.8f}"),
        names=names)
    raise AssertionError(msg)


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    """assert_almost_equal where positions holding NaN in either array are ignored."""
    a, b = np.copy(_as_numpy(a)), np.copy(_as_numpy(b))
    nan_mask = np.logical_or(np.isnan(a), np.isnan(b))
    a[nan_mask] = 0
    b[nan_mask] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def rand_shape_2d(dim0=10, dim1=10):
    """A random 2-D shape with sides in [1, dim0] and [1, dim1]."""
    return np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10):
    """A random 3-D shape with sides in [1, dim_i]."""
    return (np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1),
            np.random.randint(1, dim2 + 1))


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    """A random shape of num_dim sides in [1, dim] ([0, dim] with allow_zero_size)."""
    low = 0 if allow_zero_size else 1
    return tuple(int(x) for x in np.random.randint(low, dim + 1, size=num_dim))


def random_arrays(*shapes):
    """NumPy arrays of default_dtype from N(0, 1), one per shape (the array itself for one)."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(s) == 0
              else np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_sample(population, k):
    """k distinct items of population, in random order."""
    if k > len(population):
        raise ValueError(f"random_sample: k={k} exceeds the population's {len(population)}")
    population_copy = list(population)
    np.random.shuffle(population_copy)
    return population_copy[:k]


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None,
                 shuffle_csr_indices=False, distribution=None, ctx=None):
    """A random NDArray of `shape` from N(0, 1) (dtype default float32). mixnet has dense
    storage only: stype must be 'default' ('row_sparse' and 'csr' raise
    NotImplementedError); with `density` a share 1 - density of the elements is zeroed."""
    if stype != "default":
        raise NotImplementedError(f"rand_ndarray: stype '{stype}' (mixnet arrays are dense)")
    values = random_arrays(shape)
    if density is not None:
        if not 0 <= density <= 1:
            raise ValueError(f"rand_ndarray: density must be in [0, 1], got {density}")
        values = values * (np.random.rand(*shape) < density)
    if modifier_func is not None:
        values = np.vectorize(modifier_func)(values)
    dtype = default_dtype() if dtype is None else dtype
    return _nd_array(np.asarray(values), ctx=ctx if ctx is not None else default_context(),
                     dtype=dtype)


def np_reduce(dat, axis, keepdims, numpy_reduce_func):
    """numpy_reduce_func over several axes (None: all), keeping them with keepdims."""
    if isinstance(axis, int):
        axis = [axis]
    else:
        axis = list(axis) if axis is not None else range(len(dat.shape))
    ret = dat
    for i in reversed(sorted(axis)):
        ret = numpy_reduce_func(ret, axis=i)
    if keepdims:
        keepdims_shape = list(dat.shape)
        for i in axis:
            keepdims_shape[i] = 1
        ret = ret.reshape(tuple(keepdims_shape))
    return ret


def assert_exception(f, exception_type, *args, **kwargs):
    """Asserts that f(*args, **kwargs) raises exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    except Exception as e:  # a different error: say which
        raise AssertionError(f"{getattr(f, '__name__', f)} raised {type(e).__name__}: {e}, "
                             f"expected {exception_type.__name__}") from e
    raise AssertionError(f"{getattr(f, '__name__', f)} did not raise {exception_type.__name__}")


@contextmanager
def environment(*args):
    """Sets environment variables within the block: environment('NAME', 'value') or
    environment({'NAME': 'value'}); None unsets. The previous values come back after."""
    if len(args) == 2:
        changes = {args[0]: args[1]}
    elif len(args) == 1 and isinstance(args[0], dict):
        changes = args[0]
    else:
        raise ValueError("environment: expected (name, value) or a dict")
    saved = {k: os.environ.get(k) for k in changes}

    def apply(values):
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
    apply(changes)
    try:
        yield
    finally:
        apply(saved)


def retry(n):
    """Retries a test up to n times on AssertionError (for tests of random behaviour)."""
    if n <= 0:
        raise ValueError("retry: n must be positive")

    def decorate(f):
        def wrapper(*args, **kwargs):
            for i in range(n):
                try:
                    return f(*args, **kwargs)
                except AssertionError:
                    if i == n - 1:
                        raise
        wrapper.__name__ = f.__name__
        wrapper.__doc__ = f.__doc__
        return wrapper
    return decorate


# ---- symbolic checks (mx.sym and executors) ----

def _symbol_module():
    from . import symbol  # noqa: WPS433 (mx.sym; imported when first needed)
    return symbol


def _parse_named(names, given, ctx, dtype, what):
    """`given` (a list following `names`, or a dict by name) as a dict name -> NDArray on ctx;
    a dict must name exactly `names`."""
    if isinstance(given, dict):
        if set(given.keys()) != set(names):
            raise ValueError(f"Symbol {what} and the keys given do not match. symbol {what}: "
                             f"{sorted(names)}, given keys: {sorted(given.keys())}")
    else:
        given = dict(zip(names, given))
    return {k: (v.as_in_context(ctx) if isinstance(v, NDArray)
                else _nd_array(np.asarray(v), ctx=ctx, dtype=dtype))
            for k, v in given.items()}


def _parse_location(sym, location, ctx, dtype=default_dtype()):
    """location as a dict name -> NDArray on ctx (a list goes with sym.list_arguments())."""
    return _parse_named(sym.list_arguments(), location, ctx, dtype, "arguments")


def _parse_aux_states(sym, aux_states, ctx, dtype=default_dtype()):
    if aux_states is None:
        return None
    return _parse_named(sym.list_auxiliary_states(), aux_states, ctx, dtype, "aux_states")


def _set(dst, value):
    """dst[:] = value (an NDArray's in-place write)."""
    dst[:] = value


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True,
                 dtype=default_dtype()):
    """Central finite differences of sum(executor.outputs[0]) at `location` (a dict name ->
    NumPy array), one element at a time."""
    def output_sum_at(name, value):
        """sum(outputs[0]) with argument `name` set to value (aux states restored)."""
        _set(executor.arg_dict[name], value)
        for key, val in (aux_states or {}).items():
            _set(executor.aux_dict[key], val)
        executor.forward(is_train=use_forward_train)
        return executor.outputs[0].asnumpy().astype(np.float64).sum()

    approx_grads = {k: np.zeros(v.shape, dtype=dtype) for k, v in location.items()}
    for k, v in location.items():
        _set(executor.arg_dict[k], v)
    for k, v in location.items():
        if np.dtype(v.dtype).kind != "f":
            continue
        v = np.array(v, dtype=dtype)
        old_value = v.copy()
        for i in range(int(np.prod(v.shape))):
            v.ravel()[i] += eps / 2.0
            f_peps = output_sum_at(k, v)
            v.ravel()[i] -= eps
            f_neps = output_sum_at(k, v)
            approx_grads[k].ravel()[i] = (f_peps - f_neps) / eps
            v.ravel()[i] = old_value.ravel()[i]
        _set(executor.arg_dict[k], old_value)
    return approx_grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None,
                           atol=None, grad_nodes=None, use_forward_train=True, ctx=None,
                           grad_stype_dict=None, dtype=None):
    """Checks sym's backward against finite differences of sum(sym * random projection).

    Parameters
    ----------
    sym : Symbol
    location : list or dict of NumPy arrays or NDArrays
        Where to differentiate (a list follows sym.list_arguments()).
    aux_states : list or dict, optional
    numeric_eps : float, optional
        The finite-difference step (1e-3 for float32, 1e-4 for float64; 1e-2 for float16).
    rtol, atol : float, optional
    grad_nodes : list of names, or dict name -> grad_req, optional
        The arguments to check (default: all, with grad_req 'write').
    use_forward_train : bool
        Run forward with is_train=True for the finite differences.
    ctx : Context, optional
    dtype : numpy dtype, optional (float32)
    """
    sym_mod = _symbol_module()
    dtype = np.dtype(default_dtype() if dtype is None else dtype)
    if dtype.type not in (np.float16, np.float32, np.float64):
        raise ValueError(f"check_numeric_gradient: dtype must be a float type, got {dtype}")
    if numeric_eps is None:
        numeric_eps = {np.float16: 1e-2, np.float32: 1e-3, np.float64: 1e-4}[dtype.type]
    ctx = default_context() if ctx is None else ctx
    if grad_stype_dict:
        raise NotImplementedError("check_numeric_gradient: grad_stype_dict (mixnet arrays are "
                                  "dense)")

    location = _parse_location(sym, location, ctx, dtype)
    location_npy = {k: v.asnumpy() for k, v in location.items()}
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    aux_states_npy = ({k: v.asnumpy() for k, v in aux_states.items()}
                      if aux_states is not None else None)
    if grad_nodes is None:
        grad_nodes = sym.list_arguments()
        grad_req = {k: "write" for k in grad_nodes}
    elif isinstance(grad_nodes, (list, tuple)):
        grad_nodes = list(grad_nodes)
        grad_req = {k: "write" for k in grad_nodes}
    elif isinstance(grad_nodes, dict):
        grad_req = dict(grad_nodes)
        grad_nodes = list(grad_nodes.keys())
    else:
        raise ValueError(f"Invalid grad_nodes type {type(grad_nodes).__name__}")

    input_shape = {k: v.shape for k, v in location.items()}
    _, out_shape, _ = sym.infer_shape(**input_shape)
    proj = sym_mod.Variable("__random_proj")
    out = sym_mod.MakeLoss(sym * proj)

    location = dict(location)
    location["__random_proj"] = _nd_array(np.random.rand(*out_shape[0]) + 0.1, ctx=ctx,
                                          dtype=dtype)
    args_grad_npy = {k: np.random.normal(0, 0.01, size=location[k].shape) for k in grad_nodes}
    args_grad_npy["__random_proj"] = np.random.normal(0, 0.01, size=out_shape[0])
    args_grad = {k: _nd_array(v, ctx=ctx, dtype=dtype) for k, v in args_grad_npy.items()}
    grad_req = dict(grad_req)
    grad_req["__random_proj"] = "write"
    for k in out.list_arguments():
        grad_req.setdefault(k, "null")
    executor = out.bind(ctx, grad_req=grad_req, args=location, args_grad=args_grad,
                        aux_states=aux_states)
    executor.forward(is_train=True)
    executor.backward()
    symbolic_grads = {k: executor.grad_dict[k].asnumpy() for k in grad_nodes}

    location_npy["__random_proj"] = location["__random_proj"].asnumpy()
    numeric_gradients = numeric_grad(executor, location_npy, aux_states_npy, eps=numeric_eps,
                                     use_forward_train=use_forward_train, dtype=dtype)
    for name in grad_nodes:
        fd_grad = numeric_gradients[name]
        orig_grad = args_grad_npy[name]
        sym_grad = symbolic_grads[name]
        if grad_req[name] == "write":
            assert_almost_equal(fd_grad, sym_grad, rtol, atol,
                                (f"NUMERICAL_{name}", f"BACKWARD_{name}"))
        elif grad_req[name] == "add":
            assert_almost_equal(fd_grad, sym_grad - orig_grad, rtol, atol,
                                (f"NUMERICAL_{name}", f"BACKWARD_{name}"))
        elif grad_req[name] == "null":
            assert_almost_equal(orig_grad, sym_grad, rtol, atol,
                                (f"NUMERICAL_{name}", f"BACKWARD_{name}"))
        else:
            raise ValueError(f"Invalid grad_req {grad_req[name]} for argument {name}")


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None,
                           ctx=None, equal_nan=False, dtype=None):
    """Checks sym's forward outputs (is_train=False) at `location` against `expected` (a list
    in sym.list_outputs() order, or a dict by output name); returns the outputs."""
    dtype = default_dtype() if dtype is None else dtype
    ctx = default_context() if ctx is None else ctx
    location = _parse_location(sym, location, ctx, dtype)
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    if isinstance(expected, dict):
        expected = [expected[k] for k in sym.list_outputs()]
    args_grad_data = {k: _nd_empty(v.shape, ctx=ctx, dtype=v.dtype) for k, v in location.items()}
    executor = sym.bind(ctx=ctx, args=location, args_grad=args_grad_data, aux_states=aux_states)
    executor.forward(is_train=False)
    outputs = [x.asnumpy() for x in executor.outputs]
    if len(outputs) != len(expected):
        raise AssertionError(f"check_symbolic_forward: {len(outputs)} outputs but "
                             f"{len(expected)} expected")
    for output_name, expect, output in zip(sym.list_outputs(), expected, outputs):
        assert_almost_equal(expect, output, rtol, atol,
                            (f"EXPECTED_{output_name}", f"FORWARD_{output_name}"),
                            equal_nan=equal_nan)
    return executor.outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None,
                            aux_states=None, grad_req="write", ctx=None, grad_stypes=None,
                            equal_nan=False, dtype=None):
    """Checks sym's gradients at `location` for head gradients `out_grads` against `expected`
    (a list in sym.list_arguments() order, or a dict by argument name). grad_req 'add' checks
    the added part, 'null' that the gradient arrays were left alone. Returns the gradients."""
    dtype = default_dtype() if dtype is None else dtype
    ctx = default_context() if ctx is None else ctx
    if grad_stypes:
        raise NotImplementedError("check_symbolic_backward: grad_stypes (mixnet arrays are "
                                  "dense)")
    location = _parse_location(sym, location, ctx, dtype)
    aux_states = _parse_aux_states(sym, aux_states, ctx, dtype)
    if isinstance(expected, (list, tuple)):
        expected = dict(zip(sym.list_arguments(), expected))
    args_grad_npy = {k: np.random.normal(size=np.asarray(_as_numpy(v)).shape)
                     for k, v in expected.items()}
    args_grad_data = {k: _nd_array(v, ctx=ctx, dtype=location[k].dtype if k in location
                                   else dtype) for k, v in args_grad_npy.items()}
    if isinstance(grad_req, str):
        grad_req = {k: grad_req for k in sym.list_arguments()}
    elif isinstance(grad_req, (list, tuple)):
        grad_req = dict(zip(sym.list_arguments(), grad_req))
    executor = sym.bind(ctx=ctx, args=location, args_grad=args_grad_data,
                        aux_states=aux_states, grad_req=grad_req)
    executor.forward(is_train=True)
    if isinstance(out_grads, (tuple, list)):
        outg = [_nd_array(np.asarray(_as_numpy(v)), ctx=ctx, dtype=dtype) for v in out_grads]
    elif isinstance(out_grads, np.ndarray):
        outg = [_nd_array(out_grads, ctx=ctx, dtype=dtype)]
    elif isinstance(out_grads, NDArray):
        outg = [out_grads]
    elif isinstance(out_grads, dict):
        outg = [_nd_array(np.asarray(_as_numpy(out_grads[k])), ctx=ctx, dtype=dtype)
                for k in sym.list_outputs()]
    elif out_grads is None:
        outg = None
    else:
        raise TypeError(f"check_symbolic_backward: out_grads of type "
                        f"{type(out_grads).__name__}")
    executor.backward(outg)
    grads = {k: v.asnumpy() for k, v in executor.grad_dict.items() if v is not None}
    for name in expected:
        names = (f"EXPECTED_{name}", f"BACKWARD_{name}")
        if grad_req[name] == "write":
            assert_almost_equal(expected[name], grads[name], rtol, atol, names,
                                equal_nan=equal_nan)
        elif grad_req[name] == "add":
            assert_almost_equal(expected[name], grads[name] - args_grad_npy[name], rtol, atol,
                                names, equal_nan=equal_nan)
        elif grad_req[name] == "null":
            assert_almost_equal(args_grad_npy[name], grads[name], rtol, atol, names,
                                equal_nan=equal_nan)
        else:
            raise ValueError(f"Invalid grad_req {grad_req[name]} for argument {name}")
    return args_grad_data


def simple_forward(sym, ctx=None, is_train=False, **inputs):
    """sym's outputs for NumPy inputs given by name (one NumPy array, or a list)."""
    ctx = default_context() if ctx is None else ctx
    inputs = {k: _nd_array(v, ctx=ctx) for k, v in inputs.items()}
    exe = sym.bind(ctx, args=inputs)
    exe.forward(is_train=is_train)
    outputs = [x.asnumpy() for x in exe.outputs]
    return outputs[0] if len(outputs) == 1 else outputs


# MXNet 1.9's check_consistency tolerances by dtype.
_CONSISTENCY_TOL = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3,
                    np.dtype(np.float64): 1e-5, np.dtype(np.uint8): 0, np.dtype(np.int32): 0,
                    np.dtype(np.int64): 0}


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None,
                      aux_params=None, tol=None, raise_on_err=True, ground_truth=None,
                      equal_nan=False, use_uniform=False, rand_type=np.float64):
    """Checks that sym gives the same outputs and gradients on each entry of ctx_list, a list
    of dicts {'ctx': Context, '<input>': shape, ..., 'type_dict': {'<input>': dtype}}, within
    the tolerance of the lower-precision dtype. The highest-precision entry is the reference
    (or `ground_truth`, a dict of arrays by name). Returns the reference's values."""
    if tol is None:
        tol = _CONSISTENCY_TOL
    elif isinstance(tol, numbers.Number):
        tol = {np.dtype(t): tol for t in _CONSISTENCY_TOL}
    if not isinstance(sym, (list, tuple)):
        sym = [sym] * len(ctx_list)
    if len(sym) != len(ctx_list):
        raise ValueError("check_consistency: as many symbols as contexts expected")

    output_names = sym[0].list_outputs()
    arg_names = sym[0].list_arguments()
    exe_list = []
    for s, ctx in zip(sym, ctx_list):
        if s.list_arguments() != arg_names or s.list_outputs() != output_names:
            raise ValueError("check_consistency: the symbols differ in arguments or outputs")
        kwargs = {k: v for k, v in ctx.items() if k not in ("ctx", "type_dict")}
        exe_list.append(s.simple_bind(ctx=ctx["ctx"], grad_req=grad_req,
                                      type_dict=ctx.get("type_dict"), **kwargs))

    arg_params = {} if arg_params is None else dict(arg_params)
    aux_params = {} if aux_params is None else dict(aux_params)
    for name, arr in exe_list[0].arg_dict.items():
        if name not in arg_params:
            if use_uniform:
                arg_params[name] = np.random.uniform(-0.1, 0.1, size=arr.shape).astype(rand_type)
            else:
                arg_params[name] = (np.random.normal(size=arr.shape, scale=scale)
                                    .astype(rand_type))
    for name, arr in exe_list[0].aux_dict.items():
        if name not in aux_params:
            aux_params[name] = 0
    for exe in exe_list:
        for name, arr in exe.arg_dict.items():
            _set(arr, arg_params[name])
        for name, arr in exe.aux_dict.items():
            _set(arr, aux_params[name])

    dtypes = [np.dtype(exe.outputs[0].dtype) for exe in exe_list]
    max_idx = int(np.argmax([dt.itemsize for dt in dtypes]))
    gt = ground_truth
    if gt is None:
        gt = exe_list[max_idx].output_dict.copy() if hasattr(exe_list[max_idx], "output_dict") \
            else None

    def compare(values, reference, what, i, dtype):
        for name, arr in values.items():
            if name not in reference or reference[name] is None or arr is None:
                continue
            try:
                assert_almost_equal(_as_numpy(reference[name]), _as_numpy(arr), rtol=tol[dtype],
                                    atol=tol[dtype], equal_nan=equal_nan,
                                    names=(f"{what}_{name}_ref", f"{what}_{name}_{i}"))
            except AssertionError as e:
                print(f"{what} error in context {i} ({ctx_list[i]['ctx']}, {dtype}) "
                      f"for {name}")
                if raise_on_err:
                    raise e

    # forward (predict)
    for exe in exe_list:
        exe.forward(is_train=False)
    ref = gt if gt is not None else dict(zip(output_names, exe_list[max_idx].outputs))
    for i, exe in enumerate(exe_list):
        if i == max_idx and ground_truth is None:
            continue
        compare(dict(zip(output_names, exe.outputs)), ref, "predict", i, dtypes[i])

    # train
    if grad_req != "null":
        for exe in exe_list:
            exe.forward(is_train=True)
        head_grads = [np.random.normal(size=out.shape).astype(rand_type)
                      for out in exe_list[max_idx].outputs]
        for exe in exe_list:
            exe.backward([_nd_array(g, ctx=exe.outputs[0].context, dtype=out.dtype)
                          for g, out in zip(head_grads, exe.outputs)])
        ref_exe = exe_list[max_idx]
        gt_train = dict(zip(output_names, ref_exe.outputs))
        gt_train.update({k: v for k, v in ref_exe.grad_dict.items() if v is not None})
        if ground_truth is not None:
            gt_train = ground_truth
        for i, exe in enumerate(exe_list):
            if i == max_idx and ground_truth is None:
                continue
            values = dict(zip(output_names, exe.outputs))
            values.update({k: v for k, v in exe.grad_dict.items() if v is not None})
            compare(values, gt_train, "train", i, dtypes[i])
        gt = {k: _as_numpy(v) for k, v in gt_train.items()}
    return gt
