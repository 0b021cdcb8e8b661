#!/usr/bin/env python3
"""Fit scikit-learn's HistGradientBoostingClassifier for bench/run.

Reads the binary matrices bench/peers writes (little-endian float32,
row-major, label in column 0, then the features), fits on the training
rows, predicts P(fail) for the validation rows into --out (one probability
per line) and prints one JSON line: fit_seconds, predict_rows_per_s (best of
three passes over the validation rows repeated --timing-repeats times, as
bench/peers times the other models), rounds (iterations fitted) and
sklearn_version.

It never installs anything: without scikit-learn it exits with code 3 and
names the Debian package (python3-sklearn). Threads follow OMP_NUM_THREADS.
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True, help="training matrix (float32, label first)")
    ap.add_argument("--valid", required=True, help="validation matrix (float32, label first)")
    ap.add_argument("--cols", type=int, required=True, help="feature columns (the label not counted)")
    ap.add_argument("--out", required=True, help="prediction file to write")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--bins", type=int, default=255)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timing-repeats", type=int, default=1,
                    help="time predict_proba on the validation rows repeated this many times (as bench/peers times ours)")
    args = ap.parse_args()
    try:
        import numpy as np
        import sklearn
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as e:
        print(f"hgb.py: scikit-learn is not available ({e}); on Debian: apt-get install python3-sklearn", file=sys.stderr)
        sys.exit(3)

    from f32matrix import load

    X, y = load(args.train, args.cols, "hgb.py")
    VX, _ = load(args.valid, args.cols, "hgb.py")
    model = HistGradientBoostingClassifier(
        loss="log_loss",
        learning_rate=args.eta,
        max_iter=args.rounds,
        max_depth=args.depth,
        max_leaf_nodes=None,  # depth-wise limit only, as failcast and XGBoost
        l2_regularization=args.l2,
        max_bins=args.bins,
        early_stopping=False,
        random_state=args.seed,
    )
    start = time.perf_counter()
    model.fit(X, y)
    fit = time.perf_counter() - start
    p = model.predict_proba(VX)[:, 1]
    T = np.tile(VX, (max(1, args.timing_repeats), 1))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.predict_proba(T)
        best = min(best, time.perf_counter() - start)
    np.savetxt(args.out, p, fmt="%.9g")
    print(json.dumps({
        "fit_seconds": fit,
        "predict_rows_per_s": len(T) / max(best, 1e-9),
        "rounds": int(model.n_iter_),
        "sklearn_version": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
