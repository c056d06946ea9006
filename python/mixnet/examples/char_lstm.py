"""Character-level LSTM language model in Gluon, trained on text that a Debian package ships.

    python -m mixnet.examples.char_lstm                       # /usr/share/dict/words (wamerican)
    python -m mixnet.examples.char_lstm --text /usr/share/common-licenses/GPL-3 \
        --batch-size 16 --bptt 32 --epochs 10                 # a small text: smaller batches
    python -m mixnet.examples.char_lstm --tiny                # the CI setting: a few seconds

Measured on a loaded 2-core machine (defaults: 6 epochs of 60 windows of 64 x 64 characters,
hidden 128): validation perplexity 6.46 (2.69 bits/char) against the unigram baseline's 21.6
(4.44 bits/char) on the word list, 3-10k characters/s; the GPL-3 line above reaches 3.98 (1.99
bits/char) against 20.9 by epoch 9, and overfits after.

The model is Embedding -> gluon.rnn.LSTM (the fused layer, layout TNC) -> Dense over the
vocabulary, hybridized. Training is truncated back-propagation through time: the text is laid
out as batch_size parallel streams (`batchify`), cut into windows of --bptt characters
(`bptt_windows`), and the LSTM state at the end of one window starts the next one, detached so
that gradients stop at the window's start. Gradients are clipped to a global norm
(gluon.utils.clip_global_norm) before each Adam step.

Each epoch prints train and validation perplexity (exp of the mean per-character cross-entropy)
and bits per character, next to the unigram baseline (character frequencies of the training
text), then the script samples text from the model (--temperature).
"""
import argparse
import contextlib
import json
import math
import os
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon, nd
from mixnet.gluon import nn, rnn

DEFAULT_TEXT = "/usr/share/dict/words"  # Debian package wamerican


# ---- data -------------------------------------------------------------------------------------

def load_text(path, max_chars=0):
    """The file's text (UTF-8, undecodable bytes replaced), cut to max_chars when > 0."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return text[:max_chars] if max_chars > 0 else text


def build_vocab(text):
    """(characters sorted, {character: id}) over the whole text, so validation has no unknowns."""
    chars = sorted(set(text))
    return chars, {c: i for i, c in enumerate(chars)}


def split_blocks(ids, val_fraction=0.1, block=2048):
    """Splits a sequence into (train, validation): every k-th block of `block` consecutive
    characters goes to validation (k = round(1 / val_fraction)). Blocks rather than a tail keep
    both parts representative of a file that is sorted (a word list) or has sections (a licence)."""
    ids = np.asarray(ids)
    every = max(2, int(round(1.0 / val_fraction)))
    blocks = [ids[i:i + block] for i in range(0, len(ids), block)]
    val = [b for j, b in enumerate(blocks) if j % every == every - 1]
    train = [b for j, b in enumerate(blocks) if j % every != every - 1]
    if not val:  # too short for one whole period: the last block validates
        val, train = blocks[-1:], blocks[:-1]
    return np.concatenate(train), np.concatenate(val)


def batchify(ids, batch_size):
    """Lays a sequence out as batch_size parallel streams: a (steps, batch_size) array whose
    column j is the j-th contiguous piece of the sequence (the remainder is dropped). Row t is the
    batch fed at time t, the time-major (TNC) layout of the fused LSTM."""
    steps = len(ids) // batch_size
    if steps < 2:
        raise ValueError(f"batchify: {len(ids)} characters are too few for batch_size "
                         f"{batch_size} (need at least 2 per stream)")
    return np.asarray(ids[:steps * batch_size]).reshape(batch_size, steps).T


def bptt_windows(data, bptt):
    """Yields (inputs, targets) windows of up to bptt time steps from a batchified array; targets
    are the inputs shifted one step ahead, so consecutive windows continue each stream."""
    for t in range(0, data.shape[0] - 1, bptt):
        n = min(bptt, data.shape[0] - 1 - t)
        yield data[t:t + n], data[t + 1:t + 1 + n]


def epoch_windows(data, bptt, max_batches=0, epoch=1):
    """The windows an epoch trains on: all of them, or max_batches of them that continue where
    the previous epoch stopped (wrapping around), so that short epochs still cover the text."""
    windows = list(bptt_windows(data, bptt))
    if not max_batches or max_batches >= len(windows):
        return windows
    start = (epoch - 1) * max_batches
    return [windows[(start + k) % len(windows)] for k in range(max_batches)]


def unigram_cross_entropy(train_ids, eval_ids, vocab_size):
    """Mean cross-entropy (nats per character) on eval_ids of the add-one-smoothed character
    frequencies of train_ids: the baseline a model must beat by using context."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(eval_ids)].mean())


# ---- model ------------------------------------------------------------------------------------

class CharLSTM(gluon.HybridBlock):
    """Embedding -> LSTM -> Dense over the vocabulary; (x, h, c) -> (logits, h, c), time-major."""

    def __init__(self, vocab_size, embed, hidden, layers, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.layers = hidden, layers
        with self.name_scope():
            self.embedding = nn.Embedding(vocab_size, embed)
            self.lstm = rnn.LSTM(hidden, num_layers=layers, dropout=dropout, input_size=embed)
            self.decoder = nn.Dense(vocab_size, flatten=False, in_units=hidden)

    def begin_state(self, batch_size, ctx=None):
        return self.lstm.begin_state(batch_size=batch_size, ctx=ctx)

    def hybrid_forward(self, F, x, h, c):
        out, (h, c) = self.lstm(self.embedding(x), [h, c])
        return self.decoder(out), h, c


def run_epoch(model, windows, loss_fn, trainer=None, clip=0.0, ctx=None):
    """One pass over (inputs, targets) windows of a batchified text, the LSTM state carried
    from one to the next; trains when trainer is given. Returns (mean cross-entropy in nats per
    character, characters seen, seconds)."""
    vocab = model.embedding.weight.shape[0]
    states = model.begin_state(windows[0][0].shape[1], ctx=ctx)
    params = [p for p in model.collect_params().values() if p.grad_req != "null"]
    total, count, start = nd.zeros((1,), ctx=ctx), 0, time.time()
    for x, y in windows:
        x, y = nd.array(x, ctx=ctx), nd.array(y, ctx=ctx)
        states = [s.detach() for s in states]  # truncate: gradients stop at the window start
        with autograd.record() if trainer else contextlib.nullcontext():
            logits, h, c = model(x, *states)
            loss = loss_fn(logits.reshape((-1, vocab)), y.reshape((-1,)))
            mean = loss.mean()
        if trainer:
            mean.backward()
            if clip > 0:
                gluon.utils.clip_global_norm([p.grad(ctx) for p in params], clip,
                                             check_isfinite=False)
            trainer.step(1)
        states = [h, c]
        total += loss.sum()
        count += y.size
    return float(total.asscalar()) / max(count, 1), count, time.time() - start


def sample(model, chars, index, length, temperature=1.0, prime="\n", ctx=None, seed=0):
    """Generates `length` characters after `prime`, drawing each from softmax(logits /
    temperature) of the model fed its own output."""
    mx.random.seed(seed)
    states = model.begin_state(1, ctx=ctx)
    prime = "".join(c for c in prime if c in index) or chars[0]
    x = nd.array([[index[c]] for c in prime], ctx=ctx)  # (T, 1)
    out = []
    for _ in range(length):
        logits, h, c = model(x, *states)
        states = [h, c]
        probs = nd.softmax(logits[-1] / temperature)  # (1, vocab)
        nxt = int(nd.random.multinomial(probs).asscalar())
        out.append(chars[nxt])
        x = nd.array([[nxt]], ctx=ctx)
    return "".join(out)


# ---- main -------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--text", default=DEFAULT_TEXT, help="a text file to model")
    p.add_argument("--max-chars", type=int, default=0, help="use the first N characters (0: all)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=64, help="parallel streams")
    p.add_argument("--bptt", type=int, default=64, help="truncated BPTT window (time steps)")
    p.add_argument("--embed", type=int, default=32, help="character embedding size")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0, help="between LSTM layers")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument("--clip", type=float, default=1.0, help="global gradient-norm bound (0: off)")
    p.add_argument("--max-batches", type=int, default=60,
                   help="training windows per epoch, continuing where the last epoch stopped "
                   "(0: the whole text)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-hybridize", action="store_true")
    p.add_argument("--output-dir", default="", help="save parameters and vocabulary here")
    p.add_argument("--tiny", action="store_true",
                   help="CI setting: 60k characters, a small model, 2 short epochs (other flags "
                   "still apply)")
    if p.parse_known_args(argv)[0].tiny:  # new defaults; flags given explicitly still win
        p.set_defaults(max_chars=60000, epochs=2, batch_size=32, bptt=32, embed=16, hidden=64,
                       layers=1, max_batches=40, sample_length=60)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    ctx = mx.cpu()

    text = load_text(args.text, args.max_chars)
    chars, index = build_vocab(text)
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    train_ids, val_ids = split_blocks(ids, args.val_fraction)
    train, val = batchify(train_ids, args.batch_size), batchify(val_ids, args.batch_size)
    vocab = len(chars)
    uni = unigram_cross_entropy(train_ids, val_ids, vocab)
    print(f"text {args.text}: {len(text)} characters, vocabulary {vocab}, "
          f"train {len(train_ids)} / validation {len(val_ids)}")
    print(f"unigram baseline: validation perplexity {math.exp(uni):.3f}, "
          f"{uni / math.log(2):.3f} bits/char")

    model = CharLSTM(vocab, args.embed, args.hidden, args.layers, args.dropout)
    model.initialize(mx.init.Xavier(), ctx=ctx)
    if not args.no_hybridize:
        model.hybridize()
    trainer = gluon.Trainer(model.collect_params(), "adam", {"learning_rate": args.lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    for epoch in range(1, args.epochs + 1):
        windows = epoch_windows(train, args.bptt, args.max_batches, epoch)
        tr, seen, secs = run_epoch(model, windows, loss_fn, trainer, args.clip, ctx)
        va, _, _ = run_epoch(model, list(bptt_windows(val, args.bptt)), loss_fn, ctx=ctx)
        print(f"epoch {epoch}: train perplexity {math.exp(tr):.3f} ({tr / math.log(2):.3f} "
              f"bits/char), validation perplexity {math.exp(va):.3f} ({va / math.log(2):.3f} "
              f"bits/char), {secs:.1f}s, {seen / secs:.0f} chars/s", flush=True)
    print(f"final: validation perplexity {math.exp(va):.3f} vs unigram {math.exp(uni):.3f} "
          f"({va / math.log(2):.3f} vs {uni / math.log(2):.3f} bits/char)")

    text_out = sample(model, chars, index, args.sample_length, args.temperature, ctx=ctx,
                      seed=args.seed)
    print(f"sample (temperature {args.temperature}):\n{text_out}")

    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
        model.save_parameters(os.path.join(args.output_dir, "char_lstm.params"))
        with open(os.path.join(args.output_dir, "char_lstm_vocab.json"), "w") as f:
            json.dump({"chars": chars, "embed": args.embed, "hidden": args.hidden,
                       "layers": args.layers}, f)
        print(f"saved {args.output_dir}/char_lstm.params and char_lstm_vocab.json")


if __name__ == "__main__":
    main()
