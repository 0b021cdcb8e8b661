"""Regenerates table.csv and trees.json, the golden XGBoost trees of
TestMatchesXGBoost (golden_xgboost_test.go). Needs numpy and xgboost 1.7.4:

    python3 models/gbdt/testdata/xgboost/gen.py

table.csv: label then four features, one row per line. The features are
a rate on a grid of 1,001 values (more distinct values than bins, so the
bin edges are rank quantiles), a normal score rounded to 3 decimals (more
than 8 x max_bin distinct values, so XGBoost prunes its summary twice), a
count (fewer distinct values than bins: one bin each) and a rate with
point masses at both ends (0 and 1). No value in the middle of a range
holds more rows than a bin (where failcast would respread the bins).
trees.json: XGBoost's JSON dump (with_stats) of every tree, trained with
tree_method=hist and the parameters in params below.
"""
import json, os
import numpy as np
import xgboost as xgb

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(15)
n = 4000
rate = np.round(rng.random(n), 3)
score = np.round(rng.normal(size=n), 3)
count = rng.poisson(1.5, n).astype(float)
ends = np.where(rng.random(n) < 0.4, 0.0, np.where(rng.random(n) < 0.2, 1.0, np.round(rng.random(n), 3)))
logit = -2.5 + 1.6 * (rate > 0.8) + 1.2 * (score > 0) + 0.35 * np.minimum(count, 6) - 0.8 * (ends == 0) + 0.5 * ends
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
X = np.column_stack([rate, score, count, ends]).astype(np.float32)
table = np.column_stack([y, X])
np.savetxt(os.path.join(here, "table.csv"), table, delimiter=",", fmt="%.6g")

params = dict(objective="binary:logistic", tree_method="hist", max_depth=3, eta=0.3, max_bin=128,
              reg_lambda=1.0, min_child_weight=1.0, gamma=0.0, base_score=float(y.mean()), nthread=1)
booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=4)
out = {"xgboost": xgb.__version__, "params": params, "rounds": 4,
       "trees": [json.loads(t) for t in booster.get_dump(dump_format="json", with_stats=True)]}
with open(os.path.join(here, "trees.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
