#!/usr/bin/env python3
"""Time XGBoost's prediction in memory for bench/peers.

Loads a model the XGBoost CLI saved and the validation matrix bench/peers
writes (little-endian float32, row-major, label in column 0, then the
features), predicts P(fail) for every row into --out (one probability per
line), then times three prediction passes with --threads threads over the
rows repeated --timing-repeats times, each pass on a DMatrix built before
the clock starts (a fresh one per pass: XGBoost caches predictions per
DMatrix, so a second pass on the same one would only look the first one
up), and prints one JSON line: predict_rows_per_s (timed rows / the best
pass), pass_seconds and xgboost_version. This is how failcast's GBDT and
scikit-learn are timed: in memory, on the same rows, loading excluded.

It never installs anything: without the xgboost module it exits with code
3 and names the Debian package (python3-xgboost).
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="model file the XGBoost CLI saved")
    ap.add_argument("--valid", required=True, help="validation matrix (float32, label first)")
    ap.add_argument("--cols", type=int, required=True, help="feature columns (the label not counted)")
    ap.add_argument("--out", required=True, help="prediction file to write")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--timing-repeats", type=int, default=1,
                    help="time the passes on the validation rows repeated this many times (as bench/peers times ours)")
    args = ap.parse_args()
    try:
        import numpy as np
        import xgboost as xgb
    except ImportError as e:
        print(f"xgb_predict.py: xgboost is not available ({e}); on Debian: apt-get install python3-xgboost", file=sys.stderr)
        sys.exit(3)

    from f32matrix import load

    X, _ = load(args.valid, args.cols, "xgb_predict.py")
    booster = xgb.Booster(model_file=args.model)
    booster.set_param({"nthread": args.threads})
    p = booster.predict(xgb.DMatrix(X, missing=float("nan"), nthread=args.threads))
    T = np.tile(X, (max(1, args.timing_repeats), 1))
    times = []
    for _ in range(args.passes):
        dm = xgb.DMatrix(T, missing=float("nan"), nthread=args.threads)
        start = time.perf_counter()
        booster.predict(dm)
        times.append(time.perf_counter() - start)
        del dm
    np.savetxt(args.out, p, fmt="%.9g")
    print(json.dumps({
        "predict_rows_per_s": len(T) / max(min(times), 1e-9),
        "pass_seconds": times,
        "xgboost_version": xgb.__version__,
    }))


if __name__ == "__main__":
    main()
