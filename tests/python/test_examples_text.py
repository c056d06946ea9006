"""The char-level LSTM and recommender examples: their helper logic (BPTT layout, data split,
unigram baseline, HR/NDCG against hand examples, generated data) and a run of each on its tiny
setting in a subprocess, checking the printed metrics."""
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mixnet as mx
from mixnet.examples import char_lstm, recommender

TEXTS = [char_lstm.DEFAULT_TEXT, "/usr/share/common-licenses/GPL-3"]


# ---- char_lstm helpers ------------------------------------------------------------------------

def test_batchify_streams_are_contiguous_columns():
    data = char_lstm.batchify(np.arange(23), 4)  # 5 steps per stream, 3 dropped
    assert data.shape == (5, 4)
    np.testing.assert_array_equal(data[:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(data[:, 3], [15, 16, 17, 18, 19])
    np.testing.assert_array_equal(data[1], [1, 6, 11, 16])  # time step 1 of every stream
    with pytest.raises(ValueError, match="too few"):
        char_lstm.batchify(np.arange(5), 4)


def test_bptt_windows_shift_targets_and_continue_streams():
    data = char_lstm.batchify(np.arange(22), 2)  # (11, 2): streams 0..10 and 11..21
    windows = list(char_lstm.bptt_windows(data, 4))
    assert [x.shape for x, _ in windows] == [(4, 2), (4, 2), (2, 2)]  # 10 inputs: 4 + 4 + 2
    for x, y in windows:
        np.testing.assert_array_equal(y, x + 1)  # the next character of the same stream
    np.testing.assert_array_equal(windows[1][0][0], windows[0][1][-1])  # window 2 starts where
    # window 1's targets ended: the carried state has seen exactly the characters before it
    inputs = np.concatenate([x for x, _ in windows])
    np.testing.assert_array_equal(inputs[:, 1], np.arange(11, 21))


def test_epoch_windows_continue_and_wrap():
    data = char_lstm.batchify(np.arange(22), 2)  # 3 windows of bptt 4
    first = [x[0, 0] for x, _ in char_lstm.epoch_windows(data, 4, max_batches=2, epoch=1)]
    second = [x[0, 0] for x, _ in char_lstm.epoch_windows(data, 4, max_batches=2, epoch=2)]
    assert first == [0, 4] and second == [8, 0]  # epoch 2 goes on from window 3, then wraps
    assert len(char_lstm.epoch_windows(data, 4, max_batches=0)) == 3


def test_tiny_sets_defaults_that_flags_override():
    args = char_lstm.parse_args(["--tiny", "--epochs", "5"])
    assert (args.tiny, args.epochs, args.hidden) == (True, 5, 64)
    assert recommender.parse_args(["--tiny", "--users", "7"]).users == 7


def test_split_blocks_and_vocab():
    ids = np.arange(100)
    train, val = char_lstm.split_blocks(ids, val_fraction=0.25, block=10)
    np.testing.assert_array_equal(val, np.r_[30:40, 70:80])  # every 4th block
    assert len(train) == 80 and not set(train) & set(val)
    train, val = char_lstm.split_blocks(np.arange(15), val_fraction=0.1, block=10)
    np.testing.assert_array_equal(val, np.arange(10, 15))
    chars, index = char_lstm.build_vocab("banana\n")
    assert chars == ["\n", "a", "b", "n"] and index["n"] == 3


def test_unigram_cross_entropy_by_hand():
    # train counts a:3 b:1 (+1 smoothing over 3 symbols: 4/7, 2/7, 1/7); eval "ab"
    ce = char_lstm.unigram_cross_entropy([0, 0, 0, 1], [0, 1], 3)
    assert ce == pytest.approx(-(math.log(4 / 7) + math.log(2 / 7)) / 2)


def test_char_lstm_model_shapes_and_state_carry():
    model = char_lstm.CharLSTM(7, 4, 8, 2)
    model.initialize()
    model.hybridize()
    states = model.begin_state(3)
    assert [s.shape for s in states] == [(2, 3, 8), (2, 3, 8)]
    x = mx.nd.array(np.random.default_rng(0).integers(7, size=(5, 3)))
    logits, h, c = model(x, *states)
    assert logits.shape == (5, 3, 7) and h.shape == (2, 3, 8)
    # running the 5 steps as 2 + 3 with the state carried gives the same logits
    l1, h1, c1 = model(x[0:2], *states)
    l2, _, _ = model(x[2:5], h1, c1)
    np.testing.assert_allclose(np.concatenate([l1.asnumpy(), l2.asnumpy()]), logits.asnumpy(),
                               rtol=1e-4, atol=1e-5)


# ---- recommender helpers ----------------------------------------------------------------------

def test_rank_and_hit_ratio_ndcg_by_hand():
    scores = np.array([[0.9, 0.1, 0.5, 0.2],   # held-out first: rank 0
                       [0.3, 0.8, 0.4, 0.1],   # two above: rank 2
                       [0.0, 0.5, 0.6, 0.7]])  # last: rank 3
    ranks = recommender.rank_of_first(scores)
    np.testing.assert_array_equal(ranks, [0, 2, 3])
    hr, ndcg = recommender.hit_ratio_ndcg(ranks, k=3)
    assert hr == pytest.approx(2 / 3)
    assert ndcg == pytest.approx((1.0 + 1.0 / math.log2(4)) / 3)  # 1/log2(0+2) + 1/log2(2+2)
    hr, ndcg = recommender.hit_ratio_ndcg(ranks, k=1)
    assert (hr, ndcg) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    hr, ndcg = recommender.random_baseline(101, k=10)
    assert hr == pytest.approx(10 / 101)
    assert ndcg == pytest.approx(sum(1 / math.log2(r + 2) for r in range(10)) / 101)


def test_make_dataset_leave_one_out_and_negatives():
    a = recommender.make_dataset(50, 200, seed=3)
    b = recommender.make_dataset(50, 200, seed=3)
    np.testing.assert_array_equal(a.eval_items, b.eval_items)  # seeded
    assert a.eval_items.shape == (50, 101)
    for u in range(50):
        train = set(a.train_items[a.train_users == u].tolist())
        assert a.test_items[u] not in train and train | {a.test_items[u]} == a.positives[u]
        assert not set(a.eval_items[u, 1:].tolist()) & a.positives[u]  # negatives never seen
        assert len(set(a.eval_items[u].tolist())) == 101
    neg = recommender.sample_negatives(a.train_users, a.positives, a.num_items,
                                       np.random.default_rng(0))
    assert all(n not in a.positives[u] for u, n in zip(a.train_users, neg))
    counts = np.bincount(a.train_items, minlength=200)
    assert counts.max() > 5 * max(np.median(counts), 1)  # popularity skew


def test_matrix_factorization_scores():
    model = recommender.MatrixFactorization(4, 6, 3)
    model.initialize()
    users, items = mx.nd.array([1, 3]), mx.nd.array([[0, 5], [2, 2]])
    scores = model(users, items).asnumpy()
    p = model.user_embed.weight.data().asnumpy()
    q = model.item_embed.weight.data().asnumpy()
    b = model.item_bias.weight.data().asnumpy()[:, 0]
    expect = [[p[1] @ q[0] + b[0], p[1] @ q[5] + b[5]], [p[3] @ q[2] + b[2]] * 2]
    np.testing.assert_allclose(scores, expect, rtol=1e-5, atol=1e-7)


# ---- tiny runs --------------------------------------------------------------------------------

def _run(module, *args):
    proc = subprocess.run([sys.executable, "-m", f"mixnet.examples.{module}", *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _number(pattern, out):
    m = re.search(pattern, out)
    assert m, f"'{pattern}' not in output:\n{out}"
    return float(m.group(1))


def test_char_lstm_tiny_run(tmp_path):
    text = next((t for t in TEXTS if os.path.exists(t)), None)
    if text is None:
        pytest.skip("neither /usr/share/dict/words (wamerican) nor GPL-3 is installed")
    out = _run("char_lstm", "--tiny", "--text", text, "--output-dir", str(tmp_path))
    vocab = _number(r"vocabulary (\d+)", out)
    unigram = _number(r"unigram baseline: validation perplexity ([\d.]+)", out)
    epochs = re.findall(r"epoch \d+: train perplexity ([\d.]+) .*validation perplexity ([\d.]+)",
                        out)
    assert len(epochs) == 2, out
    final = float(epochs[-1][1])
    assert 1.0 < final < unigram < vocab, out
    bits = _number(r"final: .*\(([\d.]+) vs", out)
    assert bits == pytest.approx(math.log2(final), abs=2e-3)
    assert re.search(r"sample \(temperature [\d.]+\):\n.+", out), out
    assert (tmp_path / "char_lstm.params").stat().st_size > 0


def test_recommender_tiny_run():
    out = _run("recommender", "--tiny")
    rand_hr = _number(r"random baseline: HR@10 ([\d.]+)", out)
    pop_hr = _number(r"popularity baseline: HR@10 ([\d.]+)", out)
    hr = _number(r"final: HR@10 ([\d.]+)", out)
    ndcg = _number(r"final: HR@10 [\d.]+ NDCG@10 ([\d.]+)", out)
    assert rand_hr == pytest.approx(10 / 101, abs=1e-4)
    assert pop_hr > rand_hr
    assert hr > 1.5 * rand_hr and 0 < ndcg <= hr, out
    timings = re.compile(r", [\d.]+s, \d+ pairs/s")  # timings differ between runs
    assert timings.sub("", _run("recommender", "--tiny")) == timings.sub("", out)  # seeded


# ---- the same example code under MXNet 1.9.1 --------------------------------------------------

MXNET_PYTHON = os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")


needs_mxnet = pytest.mark.skipif(not os.path.exists(MXNET_PYTHON),
                                 reason=f"MXNet 1.9.1 venv not found ({MXNET_PYTHON})")


def _as_mxnet(module, path):
    """Writes the example's source with its imports switched from mixnet to mxnet."""
    source = open(module.__file__).read()
    source = re.sub(r"^(import|from) mixnet", r"\1 mxnet", source, flags=re.M)
    assert "import mxnet as mx" in source
    path.write_text(source)


@needs_mxnet
def test_char_lstm_model_is_mxnet_code(tmp_path):
    """char_lstm.py with its imports switched to mxnet runs under MXNet 1.9.1; the parameters it
    saves load into mixnet's CharLSTM, which gives MXNet's logits over two windows with the
    state carried (hybridized on both sides)."""
    _as_mxnet(char_lstm, tmp_path / "char_lstm_mx.py")
    x = np.random.default_rng(0).integers(11, size=(7, 3))
    np.save(tmp_path / "x.npy", x)
    script = """
import numpy as np, mxnet as mx
from char_lstm_mx import CharLSTM
mx.random.seed(1)
model = CharLSTM(11, 5, 8, 2)
model.initialize(mx.init.Xavier())
model.hybridize()
x = mx.nd.array(np.load("x.npy"))
states = model.begin_state(3)
l1, h, c = model(x[0:4], *states)
l2, h, c = model(x[4:7], h, c)
np.save("logits.npy", np.concatenate([l1.asnumpy(), l2.asnumpy()]))
model.save_parameters("model.params")
"""
    proc = subprocess.run([MXNET_PYTHON, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    model = char_lstm.CharLSTM(11, 5, 8, 2)
    model.load_parameters(str(tmp_path / "model.params"))
    model.hybridize()
    xs = mx.nd.array(x)
    l1, h, c = model(xs[0:4], *model.begin_state(3))
    l2, _, _ = model(xs[4:7], h, c)
    np.testing.assert_allclose(np.concatenate([l1.asnumpy(), l2.asnumpy()]),
                               np.load(tmp_path / "logits.npy"), rtol=1e-4, atol=1e-5)


@needs_mxnet
def test_recommender_runs_under_mxnet(tmp_path):
    """recommender.py with its imports switched to mxnet trains under MXNet 1.9.1 on the same
    generated data (same baselines) and also beats random."""
    _as_mxnet(recommender, tmp_path / "recommender_mx.py")
    proc = subprocess.run([MXNET_PYTHON, "recommender_mx.py", "--tiny"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    args = recommender.parse_args(["--tiny"])
    data = recommender.make_dataset(args.users, args.items, seed=args.seed)
    hr, ndcg = recommender.popularity_baseline(data, args.seed)
    assert f"popularity baseline: HR@10 {hr:.4f} NDCG@10 {ndcg:.4f}" in proc.stdout
    assert _number(r"final: HR@10 ([\d.]+)", proc.stdout) > 1.5 * 10 / 101
