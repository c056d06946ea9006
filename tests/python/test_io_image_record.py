"""mx.io.ImageRecordIter on .rec files made with mx.recordio.pack_img: shapes and dtypes,
exact pixels (PNG) with mean/std/scale, labels, padding, shuffle, sharding, seeded
augmentation independent of preprocess_threads, errors, and MXNet 1.9.1 interop."""
import json
import os

import numpy as np
import pytest

import mixnet as mx
from mixnet import recordio
from mxnet19_ref import have_mxnet, run_mxnet, MXNET_PYTHON


def make_images(n, h=20, w=24, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, size=(h + i % 3, w + i % 2, 3)).astype(np.uint8) for i in range(n)]


def write_rec(tmp_path, images, labels=None, fmt=".png", name="data", quality=95):
    """RGB images -> (rec, idx) paths; labels: floats or lists (label vectors)."""
    rec, idx = str(tmp_path / f"{name}.rec"), str(tmp_path / f"{name}.idx")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    for i, img in enumerate(images):
        label = float(i) if labels is None else labels[i]
        hdr = recordio.IRHeader(0, label, i, 0)
        w.write_idx(i, recordio.pack_img(hdr, img[:, :, ::-1], quality=quality, img_fmt=fmt))
    w.close()
    return rec, idx


def epoch(it):
    it.reset()
    out = []
    for b in it:
        out.append((b.data[0].asnumpy(), b.label[0].asnumpy(), b.pad, np.array(b.index)))
    return out


def expected_chw(img, shape):
    """The centre crop of an RGB HWC image as CHW float."""
    _, h, w = shape
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y:y + h, x:x + w].transpose(2, 0, 1).astype(np.float32)


def test_shapes_pixels_and_normalization(tmp_path):
    imgs = make_images(10)
    rec, _ = write_rec(tmp_path, imgs)
    shape = (3, 18, 20)
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=shape, batch_size=4, mean_r=10,
                               mean_g=20, mean_b=30, std_r=2, std_g=4, std_b=8, scale=0.5)
    assert it.provide_data[0].name == "data" and it.provide_data[0].shape == (4,) + shape
    assert it.provide_label[0].name == "softmax_label" and it.provide_label[0].shape == (4,)
    batches = epoch(it)
    assert len(batches) == 3
    mean = np.array([10, 20, 30], np.float32).reshape(3, 1, 1)
    std = np.array([2, 4, 8], np.float32).reshape(3, 1, 1)
    for bi, (data, label, pad, index) in enumerate(batches):
        assert data.shape == (4,) + shape and data.dtype == np.float32
        for r in range(4 - pad):
            k = bi * 4 + r
            want = (expected_chw(imgs[k], shape) - mean) / std * 0.5
            np.testing.assert_allclose(data[r], want, rtol=1e-6, atol=1e-5)
            assert label[r] == k and index[r] == k
    # round_batch: the last batch is completed from the start of the data
    data, label, pad, index = batches[-1]
    assert pad == 2 and list(label) == [8, 9, 0, 1]
    # as MXNet, the next epoch goes on after the records the padded batch took
    second = epoch(it)
    assert [list(b[1]) for b in second] == [[2, 3, 4, 5], [6, 7, 8, 9]]
    assert [b[2] for b in second] == [0, 0]


def test_uint8_and_grey(tmp_path):
    imgs = make_images(3)
    rec, _ = write_rec(tmp_path, imgs)
    it = mx.io.ImageRecordUInt8Iter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=3)
    (data, _, _, _), = epoch(it)
    assert data.dtype == np.uint8
    np.testing.assert_array_equal(data[1], expected_chw(imgs[1], (3, 18, 20)).astype(np.uint8))
    grey = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(1, 18, 20), batch_size=3)
    (g, _, _, _), = epoch(grey)
    assert g.shape == (3, 1, 18, 20)


def test_no_round_batch_pads_with_zeros(tmp_path):
    """MXNet 1.9.1 fills with zeros too but reports pad 0; mixnet counts the filler rows."""
    rec, _ = write_rec(tmp_path, make_images(5))
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=4,
                               round_batch=False)
    batches = epoch(it)
    data, label, pad, _ = batches[-1]
    assert pad == 3 and label[0] == 4 and not data[1:].any()


def test_label_width(tmp_path):
    labels = [[i, 2 * i, -i] for i in range(6)]
    rec, _ = write_rec(tmp_path, make_images(6), labels=labels)
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=3,
                               label_width=3, label_name="lbl")
    assert it.provide_label[0].shape == (3, 3) and it.provide_label[0].name == "lbl"
    got = np.concatenate([b[1] for b in epoch(it)])
    np.testing.assert_array_equal(got, np.array(labels, np.float32))
    with pytest.raises(ValueError, match="label_width"):
        epoch(mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=3,
                                    label_width=4))


def test_shuffle_seeded(tmp_path):
    rec, idx = write_rec(tmp_path, make_images(12))

    def order(seed):
        it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=idx, data_shape=(3, 18, 20),
                                   batch_size=4, shuffle=True, seed=seed)
        e1 = np.concatenate([b[1] for b in epoch(it)])
        e2 = np.concatenate([b[1] for b in epoch(it)])
        return e1, e2

    a1, a2 = order(3)
    b1, b2 = order(3)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert sorted(a1) == list(range(12)) and list(a1) != list(range(12))
    assert list(a1) != list(a2)  # a new order each epoch
    with pytest.raises(ValueError, match="path_imgidx"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=4, shuffle=True)


@pytest.mark.parametrize("num_parts", [1, 2, 3])
def test_sharding_covers_every_record_once(tmp_path, num_parts):
    rec, idx = write_rec(tmp_path, make_images(11))
    seen = []
    for k in range(num_parts):
        it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=idx if k % 2 else "",
                                   data_shape=(3, 18, 20), batch_size=2, num_parts=num_parts,
                                   part_index=k)
        labels = []
        for _, label, pad, _ in epoch(it):
            labels += list(label[:len(label) - pad])
        assert labels == sorted(labels)  # a contiguous range in file order
        seen += labels
    assert sorted(seen) == list(range(11))


def test_augmentation_seeded_and_thread_independent(tmp_path):
    rec, _ = write_rec(tmp_path, make_images(16, h=30, w=32))
    kw = dict(path_imgrec=rec, data_shape=(3, 20, 20), batch_size=5, rand_crop=True,
              rand_mirror=True, brightness=0.3, contrast=0.3, saturation=0.3, pca_noise=0.1)

    def run(threads, seed=1):
        it = mx.io.ImageRecordIter(preprocess_threads=threads, seed=seed, **kw)
        return [b[0] for b in epoch(it)], [b[0] for b in epoch(it)]

    a, a_next = run(1)
    b, _ = run(3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c, _ = run(1, seed=2)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
    assert any(not np.array_equal(x, y) for x, y in zip(a, a_next))  # new draws each epoch


def test_crop_and_mirror_are_windows_of_the_image(tmp_path):
    imgs = make_images(6, h=26, w=28)
    rec, _ = write_rec(tmp_path, imgs)
    it = mx.io.ImageRecordUInt8Iter(path_imgrec=rec, data_shape=(3, 20, 20), batch_size=6,
                                    rand_crop=True, rand_mirror=True, seed=5)
    (data, _, _, _), = epoch(it)
    mirrored = 0
    for k, img in enumerate(imgs):
        hwc = data[k].transpose(1, 2, 0)
        found = None
        for y in range(img.shape[0] - 19):
            for x in range(img.shape[1] - 19):
                win = img[y:y + 20, x:x + 20]
                if np.array_equal(win, hwc):
                    found = "plain"
                elif np.array_equal(win[:, ::-1], hwc):
                    found = "mirror"
        assert found is not None
        mirrored += found == "mirror"
    assert 0 < mirrored < 6


def test_resize_and_random_resized_crop(tmp_path):
    rec, _ = write_rec(tmp_path, make_images(4, h=40, w=60))
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 16, 16), batch_size=4, resize=20)
    (d, _, _, _), = epoch(it)
    assert d.shape == (4, 3, 16, 16)
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 16, 16), batch_size=4,
                               random_resized_crop=True, min_random_area=0.3,
                               max_random_area=1.0, max_aspect_ratio=4 / 3, seed=1)
    (d, _, _, _), = epoch(it)
    assert d.shape == (4, 3, 16, 16)


def test_errors_name_the_file(tmp_path):
    missing = str(tmp_path / "missing.rec")
    with pytest.raises(ValueError, match="missing.rec"):
        mx.io.ImageRecordIter(path_imgrec=missing, data_shape=(3, 8, 8), batch_size=1)
    rec, _ = write_rec(tmp_path, make_images(4))
    raw = bytearray(open(rec, "rb").read())
    raw[0:4] = b"\0\0\0\0"  # a bad magic
    bad = str(tmp_path / "bad.rec")
    open(bad, "wb").write(bytes(raw))
    # as MXNet 1.9.1, a record with broken framing is skipped (the reader resynchronises)
    got = epoch(mx.io.ImageRecordIter(path_imgrec=bad, data_shape=(3, 18, 20), batch_size=3))
    assert [list(b[1]) for b in got] == [[1, 2, 3]]
    notrec = str(tmp_path / "notrec.rec")
    open(notrec, "wb").write(b"this is not a RecordIO file" * 10)
    with pytest.raises(ValueError, match="notrec.rec"):
        mx.io.ImageRecordIter(path_imgrec=notrec, data_shape=(3, 8, 8), batch_size=1)
    # an image record whose bytes are not an image
    w = recordio.MXRecordIO(str(tmp_path / "junk.rec"), "w")
    w.write(recordio.pack(recordio.IRHeader(0, 1.0, 0, 0), b"not an image at all"))
    w.close()
    with pytest.raises(ValueError, match="junk.rec"):
        epoch(mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "junk.rec"),
                                    data_shape=(3, 8, 8), batch_size=1))
    with pytest.raises(ValueError, match="smaller than data_shape"):
        epoch(mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 64, 64), batch_size=2))
    with pytest.raises(NotImplementedError, match="max_rotate_angle"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 8, 8), batch_size=2,
                              max_rotate_angle=10)
    with pytest.raises(TypeError, match="no_such_arg"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 8, 8), batch_size=2, no_such_arg=1)
    mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 8, 8), batch_size=2, verbose=False,
                          max_random_scale=1.0, inter_method=1)
    with pytest.raises(ValueError, match="data_shape"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(2, 8, 8), batch_size=2)


def test_module_fit_consumes_it(tmp_path):
    rec, _ = write_rec(tmp_path, make_images(8), labels=[float(i % 2) for i in range(8)])
    it = mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 18, 20), batch_size=4,
                               scale=1 / 255.0)
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.flatten(mx.sym.Variable("data")),
                                                     num_hidden=2), name="softmax")
    mod = mx.mod.Module(net)
    mod.fit(it, num_epoch=1)


@pytest.mark.skipif(not have_mxnet(), reason=f"MXNet 1.9.1 not found at {MXNET_PYTHON}")
@pytest.mark.parametrize("fmt,tol,resize", [(".png", 0, -1), (".jpg", 2, -1), (".png", 1, 23)])
def test_interop_mxnet(tmp_path, fmt, tol, resize):
    imgs = make_images(7, h=26, w=30)
    rec, idx = write_rec(tmp_path, imgs, fmt=fmt, quality=90)
    kw = dict(data_shape=(3, 20, 24), batch_size=3, mean_r=5.0, mean_g=6.0, mean_b=7.0,
              std_r=2.0, std_g=3.0, std_b=4.0, scale=0.5, resize=resize)
    ours = epoch(mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=idx, **kw))
    theirs = run_mxnet(f"""
        import json, mxnet as mx
        it = mx.io.ImageRecordIter(path_imgrec={rec!r}, path_imgidx={idx!r},
                                   preprocess_threads=1, **{kw!r})
        out = []
        for b in it:
            out.append([b.data[0].asnumpy().tolist(), b.label[0].asnumpy().tolist(), b.pad])
        print(json.dumps(out))
    """)
    assert len(ours) == len(theirs)
    for (d, l, pad, _), (td, tl, tpad) in zip(ours, theirs):
        assert pad == tpad
        n = len(l) - pad  # MXNet's filler rows may differ
        np.testing.assert_array_equal(l[:n], np.array(tl, np.float32)[:n])
        td = np.array(td, np.float32)
        np.testing.assert_allclose(d[:n], td[:n], atol=tol * 0.5 / 2.0 + 1e-4, rtol=0)


def test_reset_mid_epoch_and_drop_with_batches_alive(tmp_path):
    rec, idx = write_rec(tmp_path, make_images(20))
    it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=idx, data_shape=(3, 18, 20),
                               batch_size=3, preprocess_threads=3, prefetch_buffer=2,
                               shuffle=True, seed=4)
    first = next(iter(it)).label[0].asnumpy()
    for _ in range(5):
        it.reset()
        b = it.next()
    kept = b.data[0]
    full = epoch(it)
    assert sorted(np.concatenate([x[1][:len(x[1]) - x[2]] for x in full])) == list(range(20))
    del it  # the batch's buffer outlives the iterator
    assert kept.shape == (3, 3, 18, 20) and np.isfinite(kept.asnumpy()).all()
    assert first.shape == (3,)
