"""im2rec: the C++ tool mixnet_im2rec (tools/im2rec.cc), run directly and through
tools/im2rec.py, against the images it was given (read back with mx.recordio), Python's
shuffle, and MXNet 1.9.1 (its im2rec.py's lists and pass-through records; its reader)."""
import importlib.util
import os
import random
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import mixnet as mx

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IM2REC_PY = os.path.join(REPO, "tools", "im2rec.py")
CLASSES = ["cat", "dog", "zebra"]


def write_png(path, img):
    """A PNG of an HWC uint8 RGB (or HW grey) array, written with zlib alone: an oracle that
    shares nothing with mixnet's codecs."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape[:2]
    color_type = 2 if img.ndim == 3 else 0
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8,
                                                                  color_type, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_tree(root):
    """root/<class>/<i>.png with distinct patterns and sizes; returns {relpath: (rgb, label)}."""
    images = {}
    rng = np.random.RandomState(7)
    for label, cls in enumerate(CLASSES):
        os.makedirs(os.path.join(root, cls))
        for i in range(4):
            # landscape and portrait, with odd and even margins for --center-crop
            h, w = (9 + 2 * i + label, 12 + 3 * i) if i % 2 == 0 else (14 + 3 * i + label, 9 + i)
            img = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
            img[0, :, label] = 255  # a class mark besides the noise
            rel = os.path.join(cls, "%d.png" % i)
            write_png(os.path.join(root, rel), img)
            images[rel] = (img, label)
        with open(os.path.join(root, cls, "notes.txt"), "w") as f:
            f.write("not an image")
    return images


def _load_im2rec_py():
    spec = importlib.util.spec_from_file_location("im2rec_tool", IM2REC_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def binary():
    try:
        return _load_im2rec_py().find_binary()
    except SystemExit as e:
        pytest.skip(f"mixnet_im2rec is not built: {e}")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("im2rec_images"))
    return root, make_tree(root)


def run_tool(how, binary, *args, cwd=None):
    """Runs mixnet_im2rec directly ('bin'), through tools/im2rec.py ('py'), or the package's
    python -m mixnet.tools.im2rec ('pkg', no binary)."""
    cmd = {"bin": lambda: [binary], "py": lambda: [sys.executable, IM2REC_PY, "--binary", binary],
           "pkg": lambda: [sys.executable, "-m", "mixnet.tools.im2rec"]}[how]()
    r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                       check=False)
    assert r.returncode == 0, r.stderr
    return r


def read_rec(prefix):
    rec = mx.recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "r")
    out = [(k,) + mx.recordio.unpack(rec.read_idx(k)) for k in rec.keys]
    rec.close()
    return out


def read_lst(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f]


def python_list(root, shuffle=True):
    """MXNet's list_image(recursive=True) + make_list, written out in Python."""
    items, cat = [], {}
    for path, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        for fname in sorted(files):
            if os.path.splitext(fname)[1].lower() in (".jpeg", ".jpg", ".png"):
                cat.setdefault(path, len(cat))
                items.append((len(items), os.path.relpath(os.path.join(path, fname), root),
                              cat[path]))
    if shuffle:
        random.seed(100)
        random.shuffle(items)
    return "".join("%d\t%f\t%s\n" % (i, label, p) for i, p, label in items)


@pytest.mark.parametrize("how", ["bin", "py"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_list_as_python(binary, tree, tmp_path, how, shuffle):
    root, images = tree
    prefix = str(tmp_path / "data")
    args = ["--list", "--recursive"] + ([] if shuffle else ["--no-shuffle"])
    r = run_tool(how, binary, *args, prefix, root)
    with open(prefix + ".lst") as f:
        text = f.read()
    assert text == python_list(root, shuffle)
    assert len(text.splitlines()) == len(images)
    assert r.stdout.split()[:6] == ["cat", "0", "dog", "1", "zebra", "2"]
    lines = read_lst(prefix + ".lst")
    assert all(float(l[1]) == images[l[2]][1] for l in lines)
    if not shuffle:
        assert [l[2] for l in lines] == sorted(images)


def test_list_flat_folder(binary, tree, tmp_path):
    root, _ = tree
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ["b.PNG", "a.jpg", "c.txt", "d.jpeg"]:
        (flat / name).write_bytes(b"x")
    run_tool("bin", binary, "--list", "--no-shuffle", tmp_path / "f", flat)
    assert read_lst(str(tmp_path / "f.lst")) == [["0", "0.000000", "a.jpg"],
                                                  ["1", "0.000000", "b.PNG"],
                                                  ["2", "0.000000", "d.jpeg"]]
    run_tool("bin", binary, "--list", "--no-shuffle", "--exts", ".txt", tmp_path / "t", flat)
    assert [l[2] for l in read_lst(str(tmp_path / "t.lst"))] == ["c.txt"]


def test_list_chunks_and_splits(binary, tree, tmp_path):
    root, images = tree
    prefix = str(tmp_path / "s")
    run_tool("py", binary, "--list", "--recursive", "--chunks", 2, "--train-ratio", 0.5,
             "--test-ratio", 0.25, prefix, root)
    full = python_list(root).splitlines()  # 12 items: chunks of 6; test 1, train 3, val 2
    got = []
    for c in range(2):
        parts = {s: read_lst("%s_%d_%s.lst" % (prefix, c, s)) for s in ("test", "train", "val")}
        assert [len(parts[s]) for s in ("test", "train", "val")] == [1, 3, 2]
        got += [l for s in ("test", "train", "val") for l in parts[s]]
    assert ["\t".join(l) for l in got] == full
    assert not os.path.exists(prefix + ".lst")
    run_tool("bin", binary, "--list", "--recursive", "--train-ratio", 0.75, prefix + "2", root)
    assert len(read_lst(prefix + "2_train.lst")) == 9
    assert len(read_lst(prefix + "2_val.lst")) == 3
    assert not os.path.exists(prefix + "2_test.lst")


@pytest.mark.parametrize("how,threads", [("bin", 1), ("py", 3), ("bin", 4)])
def test_pack_png_exact(binary, tree, tmp_path, how, threads):
    root, images = tree
    prefix = str(tmp_path / "p")
    run_tool(how, binary, "--list", "--recursive", prefix, root)
    run_tool(how, binary, "--encoding", ".png", "--num-thread", threads, prefix, root)
    lst = read_lst(prefix + ".lst")
    recs = read_rec(prefix)
    assert [k for k, _, _ in recs] == [int(l[0]) for l in lst]  # list order
    for (key, header, payload), line in zip(recs, lst):
        img, label = images[line[2]]
        assert header.flag == 0 and header.label == label and header.id == key
        bgr = mx.recordio.unpack_img(mx.recordio.pack(header, payload), 1)[1]
        np.testing.assert_array_equal(bgr[:, :, ::-1], img)
        rgb = mx.image.imdecode(payload).asnumpy()
        np.testing.assert_array_equal(rgb, img)


def test_pack_jpeg_quality(binary, tree, tmp_path):
    root, images = tree
    sizes = {}
    for q in (95, 20):
        prefix = str(tmp_path / ("q%d" % q))
        run_tool("bin", binary, "--list", "--recursive", prefix, root)
        run_tool("bin", binary, "--quality", q, prefix, root)
        recs = read_rec(prefix)
        assert all(payload[:2] == b"\xff\xd8" for _, _, payload in recs)
        sizes[q] = sum(len(p) for _, _, p in recs)
        # The same bytes as mx.recordio.pack_img of the original (BGR, as OpenCV's arrays).
        for (key, header, payload), line in zip(recs, read_lst(prefix + ".lst")):
            img = images[line[2]][0]
            expect = mx.recordio.pack_img(header, img[:, :, ::-1], quality=q, img_fmt=".jpg")
            assert mx.recordio.pack(header, payload) == expect
            assert mx.image.imdecode(payload).shape == img.shape
    assert sizes[20] < sizes[95]


@pytest.mark.parametrize("opts", [["--resize", 7], ["--center-crop"],
                                  ["--center-crop", "--resize", 5], ["--resize", 30]])
def test_resize_and_center_crop(binary, tree, tmp_path, opts):
    root, images = tree
    prefix = str(tmp_path / "r")
    run_tool("py", binary, "--list", "--recursive", prefix, root)
    run_tool("py", binary, "--encoding", ".png", *opts, prefix, root)
    lst = read_lst(prefix + ".lst")
    for (_, _, payload), line in zip(read_rec(prefix), lst):
        img = images[line[2]][0]
        h, w = img.shape[:2]
        if "--center-crop" in opts:  # im2rec.py crops first, margins rounded down
            s = min(h, w)
            y0, x0 = (h - s) // 2, (w - s) // 2
            img = img[y0:y0 + s, x0:x0 + s]
            h = w = s
        if "--resize" in opts:
            n = opts[opts.index("--resize") + 1]
            shape = (h * n // w, n) if h > w else (n, w * n // h)
            expect = mx.image.imresize(mx.nd.array(img, dtype=np.uint8), shape[1], shape[0],
                                       interp=1).asnumpy()
        else:
            expect = img
        dec = mx.image.imdecode(payload).asnumpy()
        np.testing.assert_array_equal(dec, expect)


def test_color_modes(binary, tree, tmp_path):
    root, images = tree
    prefix = str(tmp_path / "c")
    run_tool("bin", binary, "--list", "--recursive", prefix, root)
    run_tool("bin", binary, "--encoding", ".png", "--color", 0, prefix, root)
    lst = read_lst(prefix + ".lst")
    for (_, _, payload), line in zip(read_rec(prefix), lst):
        grey = mx.image.imdecode(payload, flag=-1).asnumpy()
        h, w = images[line[2]][0].shape[:2]
        assert grey.shape in ((h, w), (h, w, 1))
        ref = mx.image.imread(os.path.join(root, line[2]), flag=0).asnumpy()
        np.testing.assert_array_equal(grey.reshape(h, w), ref.reshape(h, w))


def test_pass_through_bytes(binary, tree, tmp_path):
    root, _ = tree
    prefix = str(tmp_path / "t")
    run_tool("bin", binary, "--list", "--recursive", prefix, root)
    run_tool("py", binary, "--pass-through", "--resize", 4, prefix, root)
    lst = read_lst(prefix + ".lst")
    for (_, header, payload), line in zip(read_rec(prefix), lst):
        with open(os.path.join(root, line[2]), "rb") as f:
            assert payload == f.read()
        assert header.label == float(line[1])


def test_pack_label_and_bad_lines(binary, tree, tmp_path):
    root, images = tree
    rels = sorted(images)[:3]
    prefix = str(tmp_path / "m")
    with open(prefix + ".lst", "w") as f:
        f.write("5\t1.5\t2\t-3\t%s\n" % rels[0])
        f.write("only\ttwo\n")  # reported and skipped, as MXNet
        f.write("7\t4\t5\t6\tmissing/file.png\n")  # cannot be read: skipped
        f.write("9\t0.25\t1\t2\t%s\n" % rels[1])
        f.write("11\t3\t%s\n" % rels[2])  # one label: never packed
    r = run_tool("bin", binary, "--pack-label", "--encoding", ".png", prefix, root)
    assert "missing/file.png" in r.stderr
    recs = read_rec(prefix)
    assert [k for k, _, _ in recs] == [5, 9, 11]
    assert recs[0][1].flag == 3 and recs[0][1].label.tolist() == [1.5, 2, -3]
    assert recs[1][1].flag == 3 and recs[1][1].label.tolist() == [0.25, 1, 2]
    assert recs[2][1].flag == 0 and recs[2][1].label == 3
    np.testing.assert_array_equal(mx.image.imdecode(recs[1][2]).asnumpy(), images[rels[1]][0])
    run_tool("py", binary, "--encoding", ".png", prefix, root)  # without --pack-label
    assert [(h.flag, h.label) for _, h, _ in read_rec(prefix)] == [(0, 1.5), (0, 0.25), (0, 3)]


def test_bad_options(binary, tree, tmp_path):
    root, _ = tree
    for args in (["--color", "2"], ["--encoding", ".bmp"], ["--bogus"], ["--chunks", "x"]):
        r = subprocess.run([binary] + args + [str(tmp_path / "x"), root], capture_output=True,
                           text=True, check=False)
        assert r.returncode != 0 and r.stderr
    r = subprocess.run([binary, str(tmp_path / "nolist"), root], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 1 and "list file" in r.stderr


# ---- mixnet.tools.im2rec: the same C++ code from the installed package, no binary ----

@pytest.mark.parametrize("shuffle", [True, False])
def test_package_list_as_python(tree, tmp_path, shuffle):
    root, images = tree
    prefix = str(tmp_path / "data")
    r = run_tool("pkg", None, "--list", "--recursive", *([] if shuffle else ["--no-shuffle"]),
                 prefix, root)
    with open(prefix + ".lst") as f:
        assert f.read() == python_list(root, shuffle)
    assert r.stdout.split()[:6] == ["cat", "0", "dog", "1", "zebra", "2"]


def test_package_pack_png_exact(tree, tmp_path):
    root, images = tree
    prefix = str(tmp_path / "p")
    run_tool("pkg", None, "--list", "--recursive", prefix, root)
    r = run_tool("pkg", None, "--encoding", ".png", "--num-thread", 2, prefix, root)
    assert "count: %d of %d" % (len(images), len(images)) in r.stdout
    lst = read_lst(prefix + ".lst")
    recs = read_rec(prefix)
    assert [k for k, _, _ in recs] == [int(l[0]) for l in lst]
    for (key, header, payload), line in zip(recs, lst):
        img, label = images[line[2]]
        assert header.label == label and header.id == key
        np.testing.assert_array_equal(mx.image.imdecode(payload).asnumpy(), img)


def test_package_api(tree, tmp_path, capfd):
    from mixnet.tools import im2rec
    root, images = tree
    prefix = str(tmp_path / "a")
    folders = im2rec.make_list(prefix, root, recursive=True, train_ratio=0.5)
    assert folders == [("cat", 0), ("dog", 1), ("zebra", 2)]
    assert len(read_lst(prefix + "_train.lst")) == len(images) // 2
    assert len(read_lst(prefix + "_val.lst")) == len(images) - len(images) // 2
    with open(prefix + "_val.lst", "a") as f:
        f.write("99\t0.000000\tmissing/file.png\n")
    assert im2rec.make_rec(prefix, root, encoding=".png", resize=4, verbose=False) == len(images)
    assert "missing/file.png" in capfd.readouterr().err
    assert all(min(mx.image.imdecode(p).shape[:2]) == 4 for _, _, p in read_rec(prefix + "_train"))
    with pytest.raises(ValueError, match="--color"):
        im2rec.make_rec(prefix, root, color=2)
    with pytest.raises(ValueError, match="list file"):
        im2rec.make_rec(str(tmp_path / "none"), root)
    r = subprocess.run([sys.executable, "-m", "mixnet.tools.im2rec", str(tmp_path / "none"),
                        root], capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "list file" in r.stderr


MXNET_IM2REC = os.path.join(os.path.dirname(os.path.dirname(os.environ.get(
    "MXNET_PYTHON", os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")))),
    "lib", "python3.11", "site-packages", "mxnet", "tools", "im2rec.py")


def test_mxnet_im2rec_lists_and_pass_through(binary, tree, tmp_path, mxnet_python):
    """MXNet 1.9.1's own im2rec.py (its `import cv2` removed: the wheel has no cv2, and --list
    and --pass-through do not use it) writes the same files byte for byte."""
    if not os.path.exists(MXNET_IM2REC):
        pytest.skip(f"MXNet's im2rec.py not found at {MXNET_IM2REC}")
    root, _ = tree
    with open(MXNET_IM2REC) as f:
        src = f.read().replace("\nimport cv2\n", "\n")
    ref = tmp_path / "ref_im2rec.py"
    ref.write_text(src)
    (tmp_path / "mx").mkdir()
    (tmp_path / "mix").mkdir()
    lists = ["--list", "--recursive", "--chunks", "2", "--train-ratio", "0.5", "--test-ratio",
             "0.2"]
    for args in (lists, ["--pass-through"]):
        r = subprocess.run([mxnet_python, str(ref)] + args + [str(tmp_path / "mx" / "d"), root],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        run_tool("bin", binary, *args, tmp_path / "mix" / "d", root)
    names = sorted(os.listdir(tmp_path / "mx"))
    assert names == sorted(os.listdir(tmp_path / "mix"))
    assert len([n for n in names if n.endswith(".rec")]) == 6
    for n in names:
        assert (tmp_path / "mx" / n).read_bytes() == (tmp_path / "mix" / n).read_bytes(), n


def test_mxnet_reads_records(binary, tree, tmp_path, mxnet_python):
    """MXNet 1.9.1 reads mixnet's .rec: its recordio.unpack and mx.image.imdecode (libmxnet's
    OpenCV) give back the original pixels and labels."""
    root, images = tree
    prefix = str(tmp_path / "x")
    run_tool("bin", binary, "--list", "--recursive", prefix, root)
    run_tool("bin", binary, "--encoding", ".png", "--num-thread", 2, prefix, root)
    script = (
        "import sys, numpy as np, mxnet as mx\n"
        "p = sys.argv[1]\n"
        "rec = mx.recordio.MXIndexedRecordIO(p + '.idx', p + '.rec', 'r')\n"
        "out = {}\n"
        "for k in rec.keys:\n"
        "    h, s = mx.recordio.unpack(rec.read_idx(k))\n"
        "    out['img%d' % k] = mx.image.imdecode(s).asnumpy()\n"
        "    out['lab%d' % k] = np.array([h.label, h.id])\n"
        "np.savez(p + '_mx.npz', **out)\n")
    r = subprocess.run([mxnet_python, "-c", script, prefix], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0 and "OpenCV" in r.stderr:
        pytest.skip(f"MXNet 1.9.1's imdecode is unusable here: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    got = np.load(prefix + "_mx.npz")
    lst = read_lst(prefix + ".lst")
    assert len(got.files) == 2 * len(lst)
    for line in lst:
        img, label = images[line[2]]
        np.testing.assert_array_equal(got["img" + line[0]], img)
        assert got["lab" + line[0]].tolist() == [label, int(line[0])]
