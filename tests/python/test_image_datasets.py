"""gluon.data.vision.ImageRecordDataset and ImageFolderDataset: the images and labels they
were made from (PNG files written with zlib alone), records packed by mx.recordio and by
im2rec, and MXNet 1.9.1's datasets over the same files."""
import os
import subprocess
import warnings

import numpy as np
import pytest

import mixnet as mx
from mixnet.gluon.data.vision import ImageFolderDataset, ImageRecordDataset

from test_im2rec import CLASSES, _load_im2rec_py, make_tree, read_lst, run_tool


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("image_datasets"))
    images = make_tree(root)
    with open(os.path.join(root, "README"), "w") as f:  # a file beside the class folders
        f.write("ignored")
    return root, images


def write_rec(prefix, entries):
    """entries: [(rgb, label)] packed as PNG records by mx.recordio (keys 0..n-1)."""
    rec = mx.recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "w")
    for i, (img, label) in enumerate(entries):
        header = mx.recordio.IRHeader(0, label, i, 0)
        rec.write_idx(i, mx.recordio.pack_img(header, img[:, :, ::-1], img_fmt=".png"))
    rec.close()


def test_image_record_dataset(tree, tmp_path):
    _, images = tree
    entries = [images[k] for k in sorted(images)]
    prefix = str(tmp_path / "d")
    write_rec(prefix, entries)
    ds = ImageRecordDataset(prefix + ".rec")
    assert len(ds) == len(entries)
    for i in (0, 5, len(entries) - 1, -1):
        img, label = ds[i]
        assert isinstance(img, mx.nd.NDArray) and img.dtype == np.uint8
        np.testing.assert_array_equal(img.asnumpy(), entries[i][0])  # RGB, HWC
        assert label == entries[i][1]
    grey, _ = ImageRecordDataset(prefix + ".rec", flag=0)[3]
    h, w = entries[3][0].shape[:2]
    assert grey.shape == (h, w, 1)
    ref = mx.image.imdecode(mx.recordio.unpack(ds._record.read_idx(3))[1], flag=0)
    np.testing.assert_array_equal(grey.asnumpy(), ref.asnumpy())
    tds = ImageRecordDataset(prefix + ".rec",
                             transform=lambda d, l: (d.astype(np.float32) / 255, l + 10))
    img, label = tds[2]
    assert img.dtype == np.float32 and label == entries[2][1] + 10
    np.testing.assert_allclose(img.asnumpy(), entries[2][0] / 255.0, rtol=1e-6)


def test_image_record_dataset_multi_label(tmp_path):
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    prefix = str(tmp_path / "m")
    rec = mx.recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "w")
    rec.write_idx(0, mx.recordio.pack_img(mx.recordio.IRHeader(0, [1, 2.5, 3], 0, 0), img,
                                          img_fmt=".png"))
    rec.close()
    data, label = ImageRecordDataset(prefix + ".rec")[0]
    assert label.tolist() == [1, 2.5, 3]
    np.testing.assert_array_equal(data.asnumpy(), img[:, :, ::-1])


def test_image_record_dataset_over_im2rec(tree, tmp_path):
    try:
        binary = _load_im2rec_py().find_binary()
    except SystemExit as e:
        pytest.skip(f"mixnet_im2rec is not built: {e}")
    root, images = tree
    prefix = str(tmp_path / "i")
    run_tool("py", binary, "--list", "--recursive", prefix, root)
    run_tool("py", binary, "--encoding", ".png", "--num-thread", 2, prefix, root)
    lst = read_lst(prefix + ".lst")
    ds = ImageRecordDataset(prefix + ".rec")
    assert len(ds) == len(lst) == len(images)
    for i, line in enumerate(lst):
        img, label = ds[i]
        np.testing.assert_array_equal(img.asnumpy(), images[line[2]][0])
        assert label == images[line[2]][1]
    loader = mx.gluon.data.DataLoader(
        ds.transform(lambda d, l: (mx.image.imresize(d, 8, 6), l)), batch_size=5)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(5, 6, 8, 3), (5, 6, 8, 3), (2, 6, 8, 3)]
    labels = np.concatenate([b[1].asnumpy() for b in batches])
    assert labels.tolist() == [images[line[2]][1] for line in lst]


@pytest.mark.filterwarnings("ignore:Ignoring")
def test_image_folder_dataset(tree):
    root, images = tree
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolderDataset(root)
    messages = [str(w.message) for w in caught]
    assert any("README" in m and "not a directory" in m for m in messages)
    assert sum("notes.txt" in m for m in messages) == len(CLASSES)
    assert ds.synsets == CLASSES
    rels = sorted(images)
    assert ds.items == [(os.path.join(root, r), images[r][1]) for r in rels]
    assert len(ds) == len(images)
    for i in (0, 6, len(ds) - 1):
        img, label = ds[i]
        assert isinstance(img, mx.nd.NDArray) and img.dtype == np.uint8
        np.testing.assert_array_equal(img.asnumpy(), images[rels[i]][0])
        assert label == images[rels[i]][1]
    grey, _ = ImageFolderDataset(root, flag=0)[1]
    assert grey.shape == images[rels[1]][0].shape[:2] + (1,)
    tds = ImageFolderDataset(root, transform=lambda d, l: (d.shape, l * 2))
    assert tds[len(ds) - 1] == (images[rels[-1]][0].shape, 2 * images[rels[-1]][1])


def test_mxnet_datasets_agree(tree, tmp_path, mxnet_python):
    """MXNet 1.9.1's ImageFolderDataset and ImageRecordDataset (libmxnet's OpenCV decoder)
    over the same folder and a mixnet-written .rec give the same items, images and labels."""
    root, images = tree
    prefix = str(tmp_path / "d")
    write_rec(prefix, [images[k] for k in sorted(images)])
    script = (
        "import sys, warnings, numpy as np, mxnet as mx\n"
        "warnings.simplefilter('ignore')\n"
        "from mxnet.gluon.data.vision import ImageFolderDataset, ImageRecordDataset\n"
        "f = ImageFolderDataset(sys.argv[1]); r = ImageRecordDataset(sys.argv[2] + '.rec')\n"
        "out = {'synsets': np.array(f.synsets),\n"
        "       'items': np.array([p for p, _ in f.items]),\n"
        "       'labels': np.array([l for _, l in f.items] + [r[i][1] for i in range(len(r))])}\n"
        "for i in range(len(f)): out['f%d' % i] = f[i][0].asnumpy()\n"
        "for i in range(len(r)): out['r%d' % i] = r[i][0].asnumpy()\n"
        "np.savez(sys.argv[2] + '_mx.npz', **out)\n")
    r = subprocess.run([mxnet_python, "-c", script, root, prefix], capture_output=True,
                       text=True, check=False)
    if r.returncode != 0 and "OpenCV" in r.stderr:
        pytest.skip(f"MXNet 1.9.1's imread is unusable here: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    got = np.load(prefix + "_mx.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = ImageFolderDataset(root)
    rds = ImageRecordDataset(prefix + ".rec")
    assert got["synsets"].tolist() == ds.synsets
    assert got["items"].tolist() == [p for p, _ in ds.items]
    assert got["labels"].tolist() == [l for _, l in ds.items] + [rds[i][1] for i in
                                                                 range(len(rds))]
    for i in range(len(ds)):
        np.testing.assert_array_equal(got["f%d" % i], ds[i][0].asnumpy())
        np.testing.assert_array_equal(got["r%d" % i], rds[i][0].asnumpy())
