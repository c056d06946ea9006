"""mx.recordio against Apache MXNet 1.9.1's (run in its own venv): the same records and keys
give byte-identical .rec and .idx files (split records included); each reads the other's files
with equal payloads and IRHeaders. Skips when MXNet 1.9.1 is absent."""
import pickle
import random
import struct

import numpy as np
import pytest

import mixnet as mx
from mixnet import recordio
from mxnet19_ref import have_mxnet, run_mxnet, MXNET_PYTHON

pytestmark = pytest.mark.skipif(not have_mxnet(), reason=f"MXNet 1.9.1 not found at {MXNET_PYTHON}")

MAGIC = struct.pack("<I", 0xCED7230A)


def payloads():
    rng = random.Random(42)
    out = [b"", b"abcd" + MAGIC + b"xy", MAGIC + b"wxyz" + MAGIC + b"q", b"a" + MAGIC + b"bcd",
           MAGIC * 3]
    for _ in range(60):
        s = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 1000)))
        for _ in range(rng.randint(0, 3)):
            if len(s) >= 4:
                at = rng.randint(0, len(s) - 4)
                at -= at % 4 if rng.random() < 0.5 else 0
                s[at:at + 4] = MAGIC
        out.append(bytes(s))
    return out


def headers():
    """(label, id, id2) per record: scalar labels and label vectors."""
    out = []
    for i in range(len(payloads())):
        label = float(i) / 4 if i % 3 else [float(i), -1.5, 0.25 * i][: 2 + i % 2]
        out.append((label, i, i * 1000003 if i % 5 == 0 else 0))
    return out


def write_mixnet(d):
    ps, hs = payloads(), headers()
    w = recordio.MXIndexedRecordIO(str(d / "mix.idx"), str(d / "mix.rec"), "w")
    for i, p in enumerate(ps):
        w.write_idx(i * 7, p)
    w.close()
    w = recordio.MXRecordIO(str(d / "mix_hdr.rec"), "w")
    for (label, id_, id2), p in zip(hs, ps):
        w.write(recordio.pack(recordio.IRHeader(0, label, id_, id2), p))
    w.close()


MXNET_WRITE_AND_READ = """
import json, pickle
import numpy as np
import mxnet as mx
d = %r
ps, hs = pickle.load(open(d + '/inputs.pkl', 'rb'))
w = mx.recordio.MXIndexedRecordIO(d + '/mx.idx', d + '/mx.rec', 'w')
for i, p in enumerate(ps):
    w.write_idx(i * 7, p)
w.close()
w = mx.recordio.MXRecordIO(d + '/mx_hdr.rec', 'w')
for (label, id_, id2), p in zip(hs, ps):
    w.write(mx.recordio.pack(mx.recordio.IRHeader(0, label, id_, id2), p))
w.close()
# read mixnet's files
r = mx.recordio.MXIndexedRecordIO(d + '/mix.idx', d + '/mix.rec', 'r')
keys = list(r.keys)
back = [r.read_idx(k).hex() for k in reversed(keys)][::-1]
r.close()
r = mx.recordio.MXRecordIO(d + '/mix_hdr.rec', 'r')
hdrs = []
while True:
    s = r.read()
    if s is None:
        break
    h, rest = mx.recordio.unpack(s)
    label = h.label.tolist() if isinstance(h.label, np.ndarray) else h.label
    hdrs.append([int(h.flag), label, int(h.id), int(h.id2), rest.hex()])
print(json.dumps({'keys': keys, 'payloads': back, 'headers': hdrs}))
"""


@pytest.fixture(scope="module")
def exchanged(tmp_path_factory):
    d = tmp_path_factory.mktemp("recordio_interop")
    with open(d / "inputs.pkl", "wb") as f:
        pickle.dump((payloads(), headers()), f)
    write_mixnet(d)
    mxnet_view = run_mxnet(MXNET_WRITE_AND_READ % str(d))
    return d, mxnet_view


def test_split_records_are_exercised():
    ps = payloads()
    aligned = [p for p in ps if any(p[i:i + 4] == MAGIC for i in range(0, len(p) - 3, 4))]
    assert len(aligned) > 10


def test_files_byte_identical(exchanged):
    d, _ = exchanged
    for a, b in [("mix.rec", "mx.rec"), ("mix.idx", "mx.idx"), ("mix_hdr.rec", "mx_hdr.rec")]:
        assert (d / a).read_bytes() == (d / b).read_bytes(), a


def test_mixnet_reads_mxnet_files(exchanged):
    d, _ = exchanged
    ps, hs = payloads(), headers()
    r = recordio.MXIndexedRecordIO(str(d / "mx.idx"), str(d / "mx.rec"), "r")
    assert r.keys == [i * 7 for i in range(len(ps))]
    for i in reversed(range(len(ps))):
        assert r.read_idx(i * 7) == ps[i], i
    r.close()
    r = recordio.MXRecordIO(str(d / "mx_hdr.rec"), "r")
    for (label, id_, id2), p in zip(hs, ps):
        h, rest = recordio.unpack(r.read())
        assert rest == p and h.id == id_ and h.id2 == id2
        if isinstance(label, list):
            assert h.flag == len(label)
            np.testing.assert_array_equal(h.label, np.float32(label))
        else:
            assert h.flag == 0 and h.label == np.float32(label)
    assert r.read() is None
    r.close()


def test_mxnet_reads_mixnet_files(exchanged):
    _, view = exchanged
    ps, hs = payloads(), headers()
    assert view["keys"] == [i * 7 for i in range(len(ps))]
    assert view["payloads"] == [p.hex() for p in ps]
    assert len(view["headers"]) == len(ps)
    for (flag, label, id_, id2, rest), (want, wid, wid2), p in zip(view["headers"], hs, ps):
        assert rest == p.hex() and id_ == wid and id2 == wid2
        if isinstance(want, list):
            assert flag == len(want) and label == [float(np.float32(v)) for v in want]
        else:
            assert flag == 0 and label == float(np.float32(want))


def test_mxnet_decodes_mixnet_pack_img(tmp_path):
    img = np.random.RandomState(0).randint(0, 255, (6, 5, 3)).astype(np.uint8)
    s = recordio.pack_img(recordio.IRHeader(0, [1.0, 2.0], 9, 0), img, img_fmt=".png")
    (tmp_path / "img.bin").write_bytes(s)
    got = run_mxnet("""
        import json, mxnet as mx
        h, s = mx.recordio.unpack(open(%r, 'rb').read())
        img = mx.image.imdecode(s, to_rgb=0).asnumpy()
        print(json.dumps({'label': h.label.tolist(), 'id': h.id, 'img': img.tolist()}))
    """ % str(tmp_path / "img.bin"))
    assert got["label"] == [1.0, 2.0] and got["id"] == 9
    np.testing.assert_array_equal(np.array(got["img"], np.uint8), img)
