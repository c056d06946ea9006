"""mx.nd.save / mx.nd.load files against MXNet 1.9.1 (run as a subprocess in its own venv):
files mixnet writes load in MXNet with equal values, and files MXNet writes load here."""
import json
import subprocess

import numpy as np
import pytest

import mixnet as mx

# Runs in MXNet's python. argv[1] is a JSON job:
#   {"load": path, "np_shape": bool, "npz": out} writes the loaded arrays (and whether the file
#   held a dict) to an .npz; {"save": {path: spec}} writes files from NumPy specs.
MXNET_SCRIPT = r"""
import json, sys
import numpy as np
import mxnet as mx
job = json.loads(sys.argv[1])
if "load" in job:
    with mx.util.np_shape(job["np_shape"]):
        data = mx.nd.load(job["load"])
        is_dict = isinstance(data, dict)
        items = data.items() if is_dict else enumerate(data)
        arrays = {str(k): v.asnumpy() for k, v in items}
    np.savez(job["npz"], **{"a_" + k: v for k, v in arrays.items()},
             __meta__=np.array(json.dumps({"dict": is_dict, "keys": list(arrays),
                                           "dtypes": {k: str(v.dtype) for k, v in arrays.items()}})))
else:
    for path, spec in job["save"].items():
        with mx.util.np_shape(spec["np_shape"]):
            arrays = {k: mx.nd.array(np.array(v["values"], dtype=v["dtype"]).reshape(v["shape"]),
                                     dtype=v["dtype"]) for k, v in spec["arrays"].items()}
            mx.nd.save(path, arrays if spec["dict"] else [arrays[k] for k in sorted(arrays)])
"""


def run_mxnet(mxnet_python, job):
    r = subprocess.run([mxnet_python, "-c", MXNET_SCRIPT, json.dumps(job)],
                       capture_output=True, text=True, check=False, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def mxnet_load(mxnet_python, path, tmp_path, np_shape=False):
    out = tmp_path / (path.name + ".npz")
    run_mxnet(mxnet_python, {"load": str(path), "np_shape": np_shape, "npz": str(out)})
    with np.load(out) as z:
        meta = json.loads(str(z["__meta__"]))
        arrays = {k: z["a_" + k] for k in meta["keys"]}
    return meta, arrays


DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64"]


def sample(dtype, shape, seed):
    r = np.random.RandomState(seed)
    if np.dtype(dtype).kind == "f":
        return r.uniform(-100, 100, shape).astype(dtype)
    info = np.iinfo(dtype)
    return r.randint(max(info.min, -1000), min(info.max, 1000), shape).astype(dtype)


def test_mixnet_list_file_loads_in_mxnet(mxnet_python, tmp_path):
    arrays = [sample(dt, (3, 4), i) for i, dt in enumerate(DTYPES)]
    arrays.append(np.zeros((2, 1, 3, 1), dtype=np.float32))
    path = tmp_path / "list.nd"
    mx.nd.save(str(path), [mx.nd.array(a, dtype=a.dtype) for a in arrays])
    meta, got = mxnet_load(mxnet_python, path, tmp_path)
    assert not meta["dict"] and len(got) == len(arrays)
    for i, a in enumerate(arrays):
        assert meta["dtypes"][str(i)] == str(a.dtype)
        np.testing.assert_array_equal(got[str(i)], a)


def test_mixnet_dict_file_loads_in_mxnet(mxnet_python, tmp_path):
    arrays = {f"arg:w_{dt}": sample(dt, (5,), 10 + i) for i, dt in enumerate(DTYPES)}
    arrays["aux:big"] = sample("float32", (64, 33), 99)
    path = tmp_path / "dict.params"
    mx.nd.save(str(path), {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
    meta, got = mxnet_load(mxnet_python, path, tmp_path)
    assert meta["dict"] and sorted(got) == sorted(arrays)
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype
        np.testing.assert_array_equal(got[k], v)


def test_mixnet_file_with_0d_and_empty_arrays_loads_in_mxnet_numpy_mode(mxnet_python, tmp_path):
    arrays = {"scalar": np.array(3.5, dtype=np.float32), "empty": np.zeros((0, 3), np.float32),
              "int_scalar": np.array(-7, dtype=np.int64), "vec": np.arange(4, dtype=np.float64)}
    path = tmp_path / "zero_d.nd"
    mx.nd.save(str(path), {k: mx.nd.array(v, dtype=v.dtype) for k, v in arrays.items()})
    # 0-dim arrays exist only in MXNet's NumPy-shape mode, which reads these (V3) files.
    meta, got = mxnet_load(mxnet_python, path, tmp_path, np_shape=True)
    for k, v in arrays.items():
        assert got[k].shape == v.shape and got[k].dtype == v.dtype, k
        np.testing.assert_array_equal(got[k], v)


def test_mixnet_empty_list_loads_in_mxnet(mxnet_python, tmp_path):
    path = tmp_path / "none.nd"
    mx.nd.save(str(path), [])
    meta, got = mxnet_load(mxnet_python, path, tmp_path)
    assert got == {} and not meta["dict"]


def spec(arrays, dict_, np_shape=False):
    return {"dict": dict_, "np_shape": np_shape,
            "arrays": {k: {"values": v.ravel().tolist(), "dtype": str(v.dtype),
                           "shape": list(v.shape)} for k, v in arrays.items()}}


def test_mxnet_files_load_in_mixnet(mxnet_python, tmp_path):
    lst = {f"{i:02d}": sample(dt, (2, 3), 20 + i) for i, dt in enumerate(DTYPES)}
    dct = {f"arg:{dt}": sample(dt, (4, 1, 2), 40 + i) for i, dt in enumerate(DTYPES)}
    npm = {"s": np.array(2.25, dtype=np.float32), "e": np.zeros((0, 2), np.float32),
           "m": sample("int32", (3,), 7)}
    files = {"mx_list.nd": spec(lst, False), "mx_dict.params": spec(dct, True),
             "mx_np.nd": spec(npm, True, np_shape=True)}
    run_mxnet(mxnet_python, {"save": {str(tmp_path / k): v for k, v in files.items()}})

    got = mx.nd.load(str(tmp_path / "mx_list.nd"))
    assert isinstance(got, list) and len(got) == len(lst)
    for g, k in zip(got, sorted(lst)):
        assert g.dtype == lst[k].dtype
        np.testing.assert_array_equal(g.asnumpy(), lst[k])
    got = mx.nd.load(str(tmp_path / "mx_dict.params"))
    assert isinstance(got, dict) and sorted(got) == sorted(dct)
    for k, v in dct.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape
        np.testing.assert_array_equal(got[k].asnumpy(), v)
    got = mx.nd.load(str(tmp_path / "mx_np.nd"))
    for k, v in npm.items():
        assert got[k].shape == v.shape and got[k].dtype == v.dtype, k
        np.testing.assert_array_equal(got[k].asnumpy(), v)


def test_round_trip_through_mxnet_keeps_bytes(mxnet_python, tmp_path):
    """A file mixnet writes, loaded and saved again by MXNet, has the same bytes."""
    path = tmp_path / "rt.params"
    mx.nd.save(str(path), {"a": mx.nd.array(sample("float32", (3, 2), 1)),
                           "b": mx.nd.array(sample("int64", (4,), 2), dtype="int64")})
    script = ("import mxnet as mx, sys; mx.nd.save(sys.argv[2], mx.nd.load(sys.argv[1]))")
    out = tmp_path / "rt_mx.params"
    r = subprocess.run([mxnet_python, "-c", script, str(path), str(out)], capture_output=True,
                       text=True, check=False, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.read_bytes() == path.read_bytes()
