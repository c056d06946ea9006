"""Matrix-factorisation recommender with gluon.nn.Embedding on generated implicit feedback.

    python -m mixnet.examples.recommender                     # 3000 users x 1500 items
    python -m mixnet.examples.recommender --users 500 --items 400 --epochs 5
    python -m mixnet.examples.recommender --tiny              # the CI setting: a few seconds

Data (`make_dataset`, seeded): users and items get hidden latent factors and items a Zipf-like
popularity; each user's positives are drawn without replacement from softmax(affinity +
popularity), as clicks or purchases would be. One positive per user is held out for testing.

Model: score(u, i) = <p_u, q_i> + b_i, with p, q and b Embedding layers. It is trained with BPR
(Bayesian personalised ranking): for each observed (user, positive) pair one unobserved item is
drawn uniformly as a negative and the loss is -log sigmoid(score(u, pos) - score(u, neg)),
which is gluon.loss.SigmoidBinaryCrossEntropyLoss on the difference with label 1. BPR rather than
pointwise sigmoid cross-entropy, because the task and its metrics are rankings of items per user:
BPR optimises exactly that order and needs no calibrated probabilities (nor a per-user bias, which
would cancel in every difference and in every per-user ranking, so the model has none).

Evaluation is the standard leave-one-out protocol (He et al., NCF 2017): each user's held-out
item is ranked among 100 sampled items the user never interacted with; HR@10 is the share of
users whose held-out item is in the top 10, NDCG@10 the mean of 1 / log2(rank + 2) over those
hits. Baselines: item popularity (training counts) and random order.

Measured with the defaults (seed 0): HR@10 0.705 and NDCG@10 0.495 after 10 epochs, against
0.570 / 0.369 for popularity and 0.099 / 0.045 for random order; on a loaded 2-core machine
0.75 s per epoch with OMP_NUM_THREADS=1, 4.7 s with two OpenMP threads (their wake-ups cost more
than the small updates gain there).
"""
import argparse
import math
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon, nd
from mixnet.gluon import nn


# ---- data -------------------------------------------------------------------------------------

class Dataset:
    """Generated implicit feedback: train_users/train_items (the observed pairs), test_items
    (one held-out positive per user), eval_items ((users, 1 + negatives): the held-out item in
    column 0, then sampled never-seen items) and positives (the set of each user's items)."""

    def __init__(self, num_users, num_items, train_users, train_items, test_items, eval_items,
                 positives):
        self.num_users, self.num_items = num_users, num_items
        self.train_users, self.train_items = train_users, train_items
        self.test_items, self.eval_items, self.positives = test_items, eval_items, positives


def make_dataset(num_users, num_items, seed=0, latent=8, min_pos=5, max_pos=40, zipf=1.0,
                 affinity=2.0, negatives=100):
    """Generates the data set described in the module docstring (seeded, reproducible)."""
    if num_items < max_pos + negatives:
        raise ValueError(f"make_dataset: num_items={num_items} must be at least max_pos + "
                         f"negatives = {max_pos + negatives}")
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(num_users, latent)) / math.sqrt(latent)
    q = rng.normal(size=(num_items, latent))
    popularity = -zipf * np.log1p(rng.permutation(num_items))  # log of a Zipf weight
    logits = affinity * (p @ q.T) + popularity
    # Gumbel top-k draws k items without replacement with probabilities softmax(logits)
    keys = logits + rng.gumbel(size=logits.shape)
    counts = rng.integers(min_pos, max_pos + 1, size=num_users)
    order = np.argsort(-keys, axis=1)
    positives = [set(order[u, :counts[u]].tolist()) for u in range(num_users)]
    test_items = np.empty(num_users, dtype=np.int64)
    train_users, train_items = [], []
    for u in range(num_users):
        items = order[u, :counts[u]]
        held = rng.integers(counts[u])
        test_items[u] = items[held]
        rest = np.delete(items, held)
        train_users.append(np.full(len(rest), u))
        train_items.append(rest)
    eval_items = np.empty((num_users, 1 + negatives), dtype=np.int64)
    eval_items[:, 0] = test_items
    for u in range(num_users):
        unseen = np.setdiff1d(np.arange(num_items), order[u, :counts[u]], assume_unique=True)
        eval_items[u, 1:] = rng.choice(unseen, size=negatives, replace=False)
    return Dataset(num_users, num_items, np.concatenate(train_users),
                   np.concatenate(train_items), test_items, eval_items, positives)


def sample_negatives(users, positives, num_items, rng):
    """One uniformly drawn item per user that is not among the user's positives (rejection)."""
    neg = rng.integers(num_items, size=len(users))
    for k, u in enumerate(users):
        while neg[k] in positives[u]:
            neg[k] = rng.integers(num_items)
    return neg


# ---- metrics ----------------------------------------------------------------------------------

def rank_of_first(scores):
    """Per row, the 0-based rank of column 0 among all columns by descending score: the number
    of other columns scoring strictly higher (scores: an NDArray or array of (rows, columns))."""
    scores = nd.array(scores) if not isinstance(scores, nd.NDArray) else scores
    first = nd.slice_axis(scores, axis=1, begin=0, end=1)
    return nd.sum(nd.broadcast_greater(scores, first), axis=1).asnumpy().astype(np.int64)


def hit_ratio_ndcg(ranks, k=10):
    """(HR@k, NDCG@k) of 0-based ranks of the held-out items (one per user): a hit is rank < k
    and scores 1 / log2(rank + 2) in NDCG (a single relevant item, so the ideal DCG is 1)."""
    ranks = np.asarray(ranks)
    hits = ranks < k
    return float(hits.mean()), float(np.where(hits, 1.0 / np.log2(ranks + 2.0), 0.0).mean())


def random_baseline(candidates, k=10):
    """Exact expected (HR@k, NDCG@k) when the held-out item's rank is uniform over candidates."""
    ranks = np.arange(candidates)
    return hit_ratio_ndcg(ranks, k)


# ---- model ------------------------------------------------------------------------------------

class MatrixFactorization(gluon.HybridBlock):
    """score(user, item) = <user_embed[user], item_embed[item]> + item_bias[item]; users (B,)
    and items (B, K) give scores (B, K)."""

    def __init__(self, num_users, num_items, factors, **kwargs):
        super().__init__(**kwargs)
        init = mx.init.Normal(0.01)
        with self.name_scope():
            self.user_embed = nn.Embedding(num_users, factors, weight_initializer=init)
            self.item_embed = nn.Embedding(num_items, factors, weight_initializer=init)
            self.item_bias = nn.Embedding(num_items, 1, weight_initializer="zeros")

    def hybrid_forward(self, F, users, items):
        u = F.expand_dims(self.user_embed(users), axis=1)  # (B, 1, f)
        dot = F.sum(F.broadcast_mul(u, self.item_embed(items)), axis=2)  # (B, K)
        return dot + F.sum(self.item_bias(items), axis=2)


def evaluate(model, data, batch_size=1024):
    """(HR@10, NDCG@10) of the model on the leave-one-out candidates."""
    ranks = []
    for s in range(0, data.num_users, batch_size):
        users = nd.arange(s, min(s + batch_size, data.num_users))
        ranks.append(rank_of_first(model(users, nd.array(data.eval_items[s:s + len(users)]))))
    return hit_ratio_ndcg(np.concatenate(ranks))


def popularity_baseline(data, seed=0):
    """(HR@10, NDCG@10) of ranking candidates by training count; ties are broken at random."""
    counts = np.bincount(data.train_items, minlength=data.num_items).astype(np.float64)
    jitter = np.random.default_rng(seed).uniform(0, 0.5, size=data.eval_items.shape)
    return hit_ratio_ndcg(rank_of_first(counts[data.eval_items] + jitter))


# ---- main -------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--items", type=int, default=1500)
    p.add_argument("--factors", type=int, default=32)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    p.add_argument("--wd", type=float, default=1e-5, help="weight decay (L2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-hybridize", action="store_true")
    p.add_argument("--tiny", action="store_true",
                   help="CI setting: 300 users x 400 items, 4 epochs (other flags still apply)")
    if p.parse_known_args(argv)[0].tiny:  # new defaults; flags given explicitly still win
        p.set_defaults(users=300, items=400, factors=16, epochs=4)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    mx.random.seed(args.seed)
    data = make_dataset(args.users, args.items, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    n = len(data.train_users)
    print(f"data: {args.users} users, {args.items} items, {n} training interactions, "
          f"{data.eval_items.shape[1] - 1} sampled negatives per held-out item")
    hr, ndcg = random_baseline(data.eval_items.shape[1])
    print(f"random baseline: HR@10 {hr:.4f} NDCG@10 {ndcg:.4f}")
    hr, ndcg = popularity_baseline(data, args.seed)
    print(f"popularity baseline: HR@10 {hr:.4f} NDCG@10 {ndcg:.4f}")

    model = MatrixFactorization(args.users, args.items, args.factors)
    model.initialize()
    if not args.no_hybridize:
        model.hybridize()
    trainer = gluon.Trainer(model.collect_params(), "adam",
                            {"learning_rate": args.lr, "wd": args.wd})
    bpr = gluon.loss.SigmoidBinaryCrossEntropyLoss()  # on score(pos) - score(neg), label 1
    for epoch in range(1, args.epochs + 1):
        start, total = time.time(), nd.zeros((1,))
        perm = rng.permutation(n)
        users_all, pos_all = data.train_users[perm], data.train_items[perm]
        neg_all = sample_negatives(users_all, data.positives, data.num_items, rng)
        for s in range(0, n, args.batch_size):
            users = nd.array(users_all[s:s + args.batch_size])
            items = nd.array(np.stack([pos_all[s:s + args.batch_size],
                                       neg_all[s:s + args.batch_size]], axis=1))
            with autograd.record():
                scores = model(users, items)
                diff = nd.slice_axis(scores, axis=1, begin=0, end=1) - nd.slice_axis(
                    scores, axis=1, begin=1, end=2)
                loss = bpr(diff, nd.ones_like(diff))
            loss.backward()
            trainer.step(len(users_all[s:s + args.batch_size]))
            total += loss.sum()
        mean_loss = float(total.asscalar()) / n  # waits for the epoch's queued work
        secs = time.time() - start
        hr, ndcg = evaluate(model, data)
        print(f"epoch {epoch}: BPR loss {mean_loss:.4f}, HR@10 {hr:.4f}, "
              f"NDCG@10 {ndcg:.4f}, {secs:.1f}s, {n / secs:.0f} pairs/s", flush=True)
    print(f"final: HR@10 {hr:.4f} NDCG@10 {ndcg:.4f}")


if __name__ == "__main__":
    main()
