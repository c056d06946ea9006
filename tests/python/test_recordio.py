"""mx.recordio: MXNet's RecordIO files byte for byte (hand-built fixtures), random round trips,
indexed random access, corrupted files (errors naming file and offset; resync), pickling,
IRHeader pack/unpack, gluon.data.RecordFileDataset."""
import pickle
import random
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mixnet as mx
from mixnet import recordio

MAGIC = struct.pack("<I", 0xCED7230A)


def lrec(cflag, length):
    return struct.pack("<I", (cflag << 29) | length)


def write_records(path, payloads):
    w = recordio.MXRecordIO(str(path), "w")
    for p in payloads:
        w.write(p)
    w.close()


def read_all(rec):
    out = []
    while True:
        r = rec.read()
        if r is None:
            return out
        out.append(r)


# Hand-built records as dmlc-core writes them.
FIXTURES = [
    (b"abcde", MAGIC + lrec(0, 5) + b"abcde" + b"\0\0\0"),
    (b"", MAGIC + lrec(0, 0)),
    (b"abcd" + MAGIC + b"xy",
     MAGIC + lrec(1, 4) + b"abcd" + MAGIC + lrec(3, 2) + b"xy\0\0"),
    (MAGIC + b"wxyz" + MAGIC + b"q",
     MAGIC + lrec(1, 0) + MAGIC + lrec(2, 4) + b"wxyz" + MAGIC + lrec(3, 1) + b"q\0\0\0"),
    (b"a" + MAGIC + b"bcd", MAGIC + lrec(0, 8) + b"a" + MAGIC + b"bcd"),
]


@pytest.mark.parametrize("payload,expected", FIXTURES,
                         ids=["short", "empty", "split", "two_splits", "unaligned_magic"])
def test_writer_bytes_match_hand_built(tmp_path, payload, expected):
    path = tmp_path / "one.rec"
    write_records(path, [payload])
    assert path.read_bytes() == expected
    # and the hand-built bytes read back
    path.write_bytes(expected + expected)
    r = recordio.MXRecordIO(str(path), "r")
    assert read_all(r) == [payload, payload]
    r.close()


def random_payloads(rng, n):
    out = []
    for _ in range(n):
        s = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 1000)))
        for _ in range(rng.randint(0, 3)):
            if len(s) >= 4:
                at = rng.randint(0, len(s) - 4)
                if rng.random() < 0.5:
                    at -= at % 4
                s[at:at + 4] = MAGIC
        out.append(bytes(s))
    return out


def test_round_trip_random_payloads(tmp_path):
    payloads = random_payloads(random.Random(0), 300)
    assert sum(MAGIC in p for p in payloads) > 50
    path = tmp_path / "rt.rec"
    write_records(path, payloads)
    r = recordio.MXRecordIO(str(path), "r")
    assert read_all(r) == payloads
    assert r.read() is None
    r.reset()
    assert r.read() == payloads[0]
    r.close()


def test_tell_and_indexed_random_access(tmp_path):
    payloads = random_payloads(random.Random(1), 120)
    idx, rec = str(tmp_path / "d.idx"), str(tmp_path / "d.rec")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    offsets = []
    for i, p in enumerate(payloads):
        offsets.append(w.tell())
        w.write_idx(i * 2, p)
    w.close()
    lines = open(idx).read().splitlines()
    assert lines[:2] == ["0\t0", "2\t%d" % offsets[1]]
    assert [int(l.split("\t")[1]) for l in lines] == offsets

    r = recordio.MXIndexedRecordIO(idx, rec, "r")
    assert r.keys == [i * 2 for i in range(len(payloads))]
    order = list(range(len(payloads)))
    random.Random(2).shuffle(order)
    for i in order:
        assert r.read_idx(i * 2) == payloads[i]
    with pytest.raises(KeyError):
        r.read_idx(1)
    r.close()
    # string keys
    rs = recordio.MXIndexedRecordIO(idx, rec, "r", key_type=str)
    assert rs.keys[3] == "6" and rs.read_idx("6") == payloads[3]
    rs.close()


def test_bad_flag_and_write_type(tmp_path):
    with pytest.raises(ValueError):
        recordio.MXRecordIO(str(tmp_path / "x.rec"), "a")
    w = recordio.MXRecordIO(str(tmp_path / "x.rec"), "w")
    with pytest.raises(TypeError):
        w.write("text")
    w.close()
    with pytest.raises(ValueError, match="cannot open"):
        recordio.MXRecordIO(str(tmp_path / "missing.rec"), "r")


def good_file(tmp_path):
    recs = [b"first", b"abcd" + MAGIC + b"split", b"third!!!", b"fourth", b""]
    path = tmp_path / "good.rec"
    write_records(path, recs)
    return recs, path.read_bytes()


def run_guarded(code, timeout=30):
    """Runs `code` in a child interpreter so that a hang fails the test instead of blocking."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def corrupt_cases(tmp_path):
    recs, good = good_file(tmp_path)
    second = 16
    third = second + 8 + 4 + 8 + 8
    flipped = bytearray(good)
    flipped[second] ^= 0x40
    return recs, good, {
        # name: (bytes, strict error offset, records read before the error, resync result)
        "flipped_magic": (bytes(flipped), second, 1, [recs[0]] + recs[2:]),
        "garbage": (good[:second] + b"zzzz" + MAGIC + lrec(3, 4) + b"abcd" + MAGIC + good[second:],
                    second, 1, recs),
        "truncated_last": (good[:-12], third + 16, 3, recs[:3]),
        "zeros": (b"\0" * 4096, 0, 0, []),
        "huge_length": (MAGIC + lrec(0, (1 << 29) - 1) + good, 0, 0, recs),
    }


def test_corrupt_files_strict_errors_name_file_and_offset(tmp_path):
    _, _, cases = corrupt_cases(tmp_path)
    for name, (data, offset, before, _) in cases.items():
        path = tmp_path / (name + ".rec")
        path.write_bytes(data)
        r = recordio.MXRecordIO(str(path), "r")
        for _ in range(before):
            assert r.read() is not None
        with pytest.raises(mx.MXNetError) as info:
            r.read()
        msg = str(info.value)
        assert str(path) in msg and "byte offset %d" % offset in msg, (name, msg)
        assert isinstance(info.value, ValueError)
        r.close()


def test_corrupt_files_resync_recovers(tmp_path):
    _, _, cases = corrupt_cases(tmp_path)
    for name, (data, _, _, expected) in cases.items():
        path = tmp_path / (name + ".rec")
        path.write_bytes(data)
        r = recordio.MXRecordIO(str(path), "r", resync=True)
        assert read_all(r) == expected, name
        assert r.skipped_bytes > 0, name
        r.close()


def test_resync_on_random_corruption_terminates(tmp_path):
    # In a child process with a timeout: an endless loop fails the test instead of hanging it.
    payloads = random_payloads(random.Random(3), 30)
    path = tmp_path / "r.rec"
    write_records(path, payloads)
    out = run_guarded("""
        import random, mixnet as mx
        data = open(%r, 'rb').read()
        rng = random.Random(4)
        total = 0
        for trial in range(100):
            b = bytearray(data)
            for _ in range(10):
                b[rng.randrange(len(b))] = rng.getrandbits(8)
            open(%r, 'wb').write(bytes(b))
            r = mx.recordio.MXRecordIO(%r, 'r', resync=True)
            n = 0
            while r.read() is not None:
                n += 1
                assert n < 10000
            total += n
            r.close()
            s = mx.recordio.MXRecordIO(%r, 'r')
            try:
                while s.read() is not None:
                    pass
            except mx.MXNetError:
                pass
        print(total)
    """ % (str(path), str(tmp_path / "c.rec"), str(tmp_path / "c.rec"), str(tmp_path / "c.rec")))
    assert int(out) > 0


def test_pickle_reopens(tmp_path):
    payloads = [b"a", b"bb", b"ccc"]
    idx, rec = str(tmp_path / "p.idx"), str(tmp_path / "p.rec")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    for i, p in enumerate(payloads):
        w.write_idx(i, p)
    w.close()
    r = recordio.MXIndexedRecordIO(idx, rec, "r")
    assert r.read_idx(1) == b"bb"
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.is_open and r2.keys == [0, 1, 2]
    assert r2.read_idx(2) == b"ccc"
    # as MXNet: pickling closed the original; reading again reopens it (pid check resets)
    assert not r.is_open
    closed = recordio.MXRecordIO(rec, "r")
    closed.close()
    c2 = pickle.loads(pickle.dumps(closed))
    assert not c2.is_open


def test_context_manager(tmp_path):
    path = str(tmp_path / "cm.rec")
    with recordio.MXRecordIO(path, "w") as w:
        w.write(b"x")
    assert not w.is_open
    with recordio.MXRecordIO(path, "r") as r:
        assert r.read() == b"x"


def test_pack_unpack_scalar_label():
    h = recordio.IRHeader(5, 3.5, 7, 2 ** 40)
    s = recordio.pack(h, b"img")
    assert s == struct.pack("IfQQ", 0, 3.5, 7, 2 ** 40) + b"img"
    h2, rest = recordio.unpack(s)
    assert h2 == recordio.IRHeader(0, 3.5, 7, 2 ** 40) and rest == b"img"
    assert isinstance(h2.label, float)


def test_pack_unpack_multi_label():
    label = np.array([1.0, -2.0, 0.25], dtype=np.float64)
    s = recordio.pack(recordio.IRHeader(0, label, 1, 0), b"xyz")
    assert s == (struct.pack("IfQQ", 3, 0.0, 1, 0) + label.astype(np.float32).tobytes() + b"xyz")
    h, rest = recordio.unpack(s)
    assert h.flag == 3 and h.id == 1 and rest == b"xyz"
    assert h.label.dtype == np.float32
    np.testing.assert_array_equal(h.label, label.astype(np.float32))
    # list labels too
    h, _ = recordio.unpack(recordio.pack((0, [4, 5], 0, 0), b""))
    np.testing.assert_array_equal(h.label, [4, 5])
    with pytest.raises(ValueError):
        recordio.unpack(s[:30])
    with pytest.raises(ValueError):
        recordio.unpack(b"short")


def test_pack_img_round_trip_png():
    img = np.random.RandomState(0).randint(0, 255, (5, 7, 3)).astype(np.uint8)
    s = recordio.pack_img(recordio.IRHeader(0, 2.0, 3, 0), img, img_fmt=".png")
    h, out = recordio.unpack_img(s)
    assert h.label == 2.0 and h.id == 3
    np.testing.assert_array_equal(out, img)


def test_record_file_dataset(tmp_path):
    payloads = random_payloads(random.Random(5), 20)
    rec = str(tmp_path / "ds.rec")
    w = recordio.MXIndexedRecordIO(str(tmp_path / "ds.idx"), rec, "w")
    for i, p in enumerate(payloads):
        w.write_idx(i, p)
    w.close()
    ds = mx.gluon.data.RecordFileDataset(rec)
    assert len(ds) == 20
    assert [ds[i] for i in (7, 0, 19)] == [payloads[7], payloads[0], payloads[19]]
