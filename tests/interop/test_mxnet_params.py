"""NDArray list files (.params, .nd) exchanged with MXNet 1.9.1, which is the byte oracle.

mixnet's side is the mixnet_ndfile tool (--ndfile): `dump` prints what mixnet read as JSON,
`resave` writes what it read back out with mixnet's writer.
"""
import json
import struct
import subprocess

import numpy as np
import pytest

mx = pytest.importorskip("mxnet")

DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]
# (0, 3) needs MXNet's np-shape mode: in legacy mode a zero dim means "unknown".
LEGACY_SHAPES = [(2, 3), (1,), (4, 1, 3, 2)]
NP_SHAPES = LEGACY_SHAPES + [(0, 3)]
NAMES = ["arg:fc1_weight", "aux:bn_moving_mean", "features.3.bias", 'q"uo\\te', "权重"]


def run_ndfile(ndfile, *args):
    proc = subprocess.run([ndfile, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def dump(ndfile, path):
    return json.loads(run_ndfile(ndfile, "dump", str(path)))


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.issubdtype(np.dtype(dtype), np.floating):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def mx_arrays(dtype, shapes):
    try:
        return [mx.nd.array(sample(dtype, s, i), dtype=dtype) for i, s in enumerate(shapes)]
    except mx.base.MXNetError as e:
        pytest.skip(f"mxnet {mx.__version__} cannot make {dtype} arrays: {e}")


def save_mx(path, arrays, as_dict):
    data = dict(zip(NAMES, arrays)) if as_dict else arrays
    mx.nd.save(str(path), data)
    return (list(data.keys()) if as_dict else []), arrays


def load_mx(path, np_shape=False):
    with mx.util.np_shape(np_shape):
        data = mx.nd.load(str(path))
    if isinstance(data, dict):
        return list(data.keys()), list(data.values())
    return [], data


def expect_dump_matches(dumped, names, arrays):
    assert dumped["names"] == names
    assert len(dumped["arrays"]) == len(arrays)
    for got, want in zip(dumped["arrays"], arrays):
        want_np = want.asnumpy()
        assert not got["none"]
        assert got["dtype"] == np.dtype(want.dtype).name
        assert tuple(got["shape"]) == want.shape
        assert bytes.fromhex(got["hex"]) == want_np.tobytes()


def expect_same_arrays(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert g.asnumpy().tobytes() == w.asnumpy().tobytes()


@pytest.mark.parametrize("as_dict", [False, True], ids=["list", "dict"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_legacy_mode_files(ndfile, tmp_path, dtype, as_dict):
    src, out = tmp_path / "mx.params", tmp_path / "mixnet.params"
    names, arrays = save_mx(src, mx_arrays(dtype, LEGACY_SHAPES), as_dict)
    expect_dump_matches(dump(ndfile, src), names, arrays)
    run_ndfile(ndfile, "resave", str(src), str(out))
    assert out.read_bytes() == src.read_bytes()
    got_names, got = load_mx(out)
    assert got_names == names
    expect_same_arrays(got, arrays)


@pytest.mark.parametrize("as_dict", [False, True], ids=["list", "dict"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_np_shape_mode_files(ndfile, tmp_path, dtype, as_dict):
    src, out = tmp_path / "mx.params", tmp_path / "mixnet.params"
    with mx.util.np_shape(True):
        names, arrays = save_mx(src, mx_arrays(dtype, NP_SHAPES), as_dict)
    expect_dump_matches(dump(ndfile, src), names, arrays)
    # MXNet's np-shape mode writes every record as V3; mixnet writes V2 wherever V2 can express
    # the array (V3 only for 0-dim arrays), so the bytes differ in each record's magic. The V2
    # file loads in MXNet's default (legacy) mode, zero-size arrays included.
    run_ndfile(ndfile, "resave", str(src), str(out))
    src_bytes, out_bytes = src.read_bytes(), out.read_bytes()
    assert len(out_bytes) == len(src_bytes)
    assert out_bytes.count(struct.pack("<I", 0xF993FACA)) == 0
    got_names, got = load_mx(out)
    assert got_names == names
    with mx.util.np_shape(True):
        expect_same_arrays(got, arrays)


def test_scalar_file_is_byte_identical(ndfile, tmp_path):
    src, out = tmp_path / "mx.params", tmp_path / "mixnet.params"
    with mx.util.np_shape(True):
        arrays = [mx.nd.array(np.array(3.5, dtype="float32")),
                  mx.nd.array(np.array(-7, dtype="int64"), dtype="int64")]
        assert arrays[0].shape == ()
        mx.nd.save(str(src), {"a": arrays[0], "b": arrays[1]})
        expect_dump_matches(dump(ndfile, src), ["a", "b"], arrays)
    run_ndfile(ndfile, "resave", str(src), str(out))
    assert out.read_bytes() == src.read_bytes()


def test_scalars_mixed_with_arrays(ndfile, tmp_path):
    src, out = tmp_path / "mx.params", tmp_path / "mixnet.params"
    with mx.util.np_shape(True):
        arrays = [mx.nd.array(np.array(2.0, dtype="float32")),
                  mx.nd.array(np.ones((2, 3), dtype="float32"))]
        mx.nd.save(str(src), arrays)
    run_ndfile(ndfile, "resave", str(src), str(out))
    # A file holding a 0-dim array is written wholly in V3, as MXNet's np-shape mode writes it:
    # the bytes are MXNet's own, and it loads in that mode.
    assert out.read_bytes() == src.read_bytes()
    with mx.util.np_shape(True):
        expect_same_arrays(mx.nd.load(str(out)), arrays)


def test_mixnet_file_with_several_dtypes(ndfile, tmp_path):
    src, out = tmp_path / "mx.params", tmp_path / "mixnet.params"
    arrays = [mx.nd.array(sample(dt, (3, 2), i), dtype=dt) for i, dt in enumerate(DTYPES)]
    mx.nd.save(str(src), dict(zip(DTYPES, arrays)))
    run_ndfile(ndfile, "resave", str(src), str(out))
    got_names, got = load_mx(out)
    assert got_names == DTYPES
    expect_same_arrays(got, arrays)


def header(n):
    return struct.pack("<QQQ", 0x112, 0, n)


def names_block(names):
    out = struct.pack("<Q", len(names))
    for n in names:
        out += struct.pack("<Q", len(n)) + n.encode()
    return out


def test_older_record_versions(ndfile, tmp_path):
    # mx 1.9.1 only writes V2/V3 records, so the older ones are built by hand.
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([[-1, 2]], dtype=np.int64)
    cpu_f32, cpu_i64 = struct.pack("<iii", 1, 0, 0), struct.pack("<iii", 1, 0, 6)
    v1 = struct.pack("<Ii2q", 0xF993FAC8, 2, 2, 3) + cpu_f32 + a.tobytes()
    legacy = struct.pack("<III", 2, 1, 2) + cpu_i64 + b.tobytes()
    path = tmp_path / "old.params"
    path.write_bytes(header(2) + v1 + legacy + names_block(["v1", "legacy"]))

    dumped = dump(ndfile, path)
    assert dumped["names"] == ["v1", "legacy"]
    assert [d["dtype"] for d in dumped["arrays"]] == ["float32", "int64"]
    assert [tuple(d["shape"]) for d in dumped["arrays"]] == [(2, 3), (1, 2)]
    assert [bytes.fromhex(d["hex"]) for d in dumped["arrays"]] == [a.tobytes(), b.tobytes()]

    loaded = mx.nd.load(str(path))
    assert list(loaded) == ["v1", "legacy"]
    np.testing.assert_array_equal(loaded["v1"].asnumpy(), a)
    np.testing.assert_array_equal(loaded["legacy"].asnumpy(), b)


def test_corrupt_file_is_an_error(ndfile, tmp_path):
    path = tmp_path / "bad.params"
    path.write_bytes(header(1) + struct.pack("<Iii", 0xF993FAC9, 0, 1) + struct.pack("<q", 1 << 60))
    proc = subprocess.run([ndfile, "dump", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert str(path) in proc.stderr and "byte" in proc.stderr
