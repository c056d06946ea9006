"""Reads the JSON lines of benchmarks/kvstore/run.sh, prints the tables and the scaling model,
and writes them to one JSON file.

    python benchmarks/kvstore/summarize.py LINES.jsonl OUT.json

Scaling model (ring allreduce, the algorithm MPI libraries use for large messages): a message
of m bytes over p workers costs
    T(p, m) = 2 (p - 1) a + 2 (p - 1) / p * m * b + o
with a the per-message latency and b the per-byte cost of one transfer step, and o mixnet's
per-push overhead (engine op, hand-off to the communication thread, control word, update),
all fitted on the 2-rank measurements: there T(2, m) = 2 a + m b (+ o for the store).
"""
import json
import sys


def fit(points):
    """Least squares t = c0 + c1 * bytes over (bytes, us) points; returns (c0 us, c1 us/B)."""
    n = len(points)
    sx = sum(b for b, _ in points)
    sy = sum(t for _, t in points)
    sxx = sum(b * b for b, _ in points)
    sxy = sum(b * t for b, t in points)
    c1 = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return (sy - c1 * sx) / n, c1


def ring_us(p, m, a, b, o=0.0):
    return 2 * (p - 1) * a + 2 * (p - 1) / p * m * b + o


def main():
    lines, out_path = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(lines) if line.startswith("{")]
    by_mode = {}
    for r in rows:
        if "bytes" in r and r["mode"] in ("raw", "comm", "kvstore"):
            by_mode.setdefault(r["mode"], {})[r["bytes"]] = r["median_us"]
    result = {"rows": rows}
    raw, comm, kvs = by_mode.get("raw", {}), by_mode.get("comm", {}), by_mode.get("kvstore", {})
    if raw:
        print("== allreduce of float32, 2 ranks on loopback (medians, us)")
        print(f"{'size':>9} {'raw MPI':>10} {'comm thread':>12} {'kvstore':>10} "
              f"{'kv/raw':>7} {'kvstore GB/s':>13}")
        for b in sorted(raw):
            size = f"{b >> 20} MB" if b >= 1 << 20 else f"{b >> 10} KB"
            k = kvs.get(b)
            print(f"{size:>9} {raw[b]:>10.1f} {comm.get(b, float('nan')):>12.1f} "
                  f"{k if k else float('nan'):>10.1f} "
                  f"{(k / raw[b]) if k else float('nan'):>7.2f} "
                  f"{(b / k / 1e3) if k else float('nan'):>13.2f}")
        # 2 ranks: T = 2a + m b. b: the slope over 64 KB .. 4 MB (large sizes on a shared
        # machine are noisy); a: from the smallest message; o: the store's extra time there.
        _, b = fit([(m, t) for m, t in raw.items() if 64 << 10 <= m <= 4 << 20])
        small = min(raw)
        a = max(raw[small] - small * b, 0.0) / 2
        model = {"a_us": a, "b_us_per_byte": b}
        if kvs:
            model["o_us"] = max(kvs[small] - raw[small], 0.0)
            model["kvstore_b_us_per_byte"] = fit(
                [(m, t) for m, t in kvs.items() if 64 << 10 <= m <= 4 << 20])[1]
        result["model"] = model
        print(f"\nfitted: per-message latency a = {a:.2f} us, per-byte cost b = "
              f"{b * 1e3:.3f} ns/B ({1 / b / 1e3:.2f} GB/s)"
              + (f", mixnet per-push overhead o = {model['o_us']:.1f} us" if kvs else ""))
        print("\n== ring allreduce model T(p, m) = 2(p-1)a + 2(p-1)/p m b + o, per message (ms)")
        sizes = [4 << 20, 100 << 20]
        print(f"{'workers':>8} " + " ".join(f"{f'{m >> 20} MB':>10}" for m in sizes)
              + f" {'100 MB in 160 keys':>19}")
        predictions = []
        for p in (8, 16, 32, 64, 128, 256):
            o = model.get("o_us", 0.0)
            t = [ring_us(p, m, a, b, o) / 1e3 for m in sizes]
            keyed = sum(ring_us(p, (100 << 20) / 160, a, b, o) for _ in range(160)) / 1e3
            predictions.append({"workers": p, "ms_4MB": t[0], "ms_100MB": t[1],
                                "ms_100MB_160_keys": keyed})
            print(f"{p:>8} " + " ".join(f"{x:>10.2f}" for x in t) + f" {keyed:>19.2f}")
        result["model"]["predictions"] = predictions
    for r in rows:
        if r["mode"] == "compress":
            print(f"\n== bytes sent per worker, {r['pushes']} pushes of an MLP's gradients, "
                  f"compression {r['compression']}: {r['bytes_sent_per_worker']} "
                  f"({r['ms']:.1f} ms)")
    comp = {r["compression"]: r["bytes_sent_per_worker"] for r in rows if r["mode"] == "compress"}
    if "none" in comp and "2bit" in comp:
        result["compression_ratio"] = comp["none"] / comp["2bit"]
        print(f"   2-bit sends {result['compression_ratio']:.1f}x fewer bytes")
    for r in rows:
        if r["mode"] == "overlap":
            print(f"\n== Trainer step, MLP of {r['params']} parameters, {r['ranks']} workers "
                  f"(medians): overlapped {r['overlap_ms']:.2f} ms, serial (waitall before "
                  f"step) {r['serial_ms']:.2f} ms, no communication {r['compute_ms']:.2f} ms; "
                  f"overlap gain {r['overlap_gain']:.2f}x")
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
