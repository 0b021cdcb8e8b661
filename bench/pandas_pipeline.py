#!/usr/bin/env python3
"""bench/pandas_pipeline.py: the whole nightly path as a pandas + XGBoost
notebook would write it, the peer of failcast export + train + score.

Reads the raw send log and webhook NDJSON (the forms `failcast simulate
--raw` writes, Meta's webhook bodies and the Cloud API's answers), joins
statuses to sends by message id, builds point-in-time features per send
(recipient's earlier sends and failures, template, campaign, category,
hour), trains XGBoost hist on the sends before the last --valid-days days
and scores the rest, writing predictions.csv. Prints one JSON object with
the seconds of each part and the validation PR-AUC.

Usage: pandas_pipeline.py --send-log F --webhooks F --out DIR
       [--rounds 200] [--depth 6] [--eta 0.1] [--threads 2] [--valid-days 7]
Needs Debian's python3-pandas and python3-xgboost.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def read_send_log(path):
    rows = []
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            req, resp = r.get("request", {}), r.get("response", {})
            msgs = resp.get("messages") or [{}]
            err = resp.get("error") or {}
            tpl = req.get("template") or {}
            rows.append((
                r.get("request_id"), r.get("sent_at"), req.get("to"), r.get("campaign_id"),
                r.get("category"), tpl.get("name"), req.get("type"),
                msgs[0].get("id"), err.get("code"),
            ))
    df = pd.DataFrame(rows, columns=["request_id", "sent_at", "to", "campaign", "category", "template", "type", "wamid", "api_error"])
    df["sent_at"] = pd.to_datetime(df["sent_at"], utc=True)
    return df


def read_webhooks(path):
    rows = []
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            body = json.loads(line)
            for entry in body.get("entry", []):
                for ch in entry.get("changes", []):
                    for st in (ch.get("value") or {}).get("statuses", []) or []:
                        errs = st.get("errors") or [{}]
                        rows.append((st.get("id"), st.get("status"), int(st.get("timestamp", 0)), errs[0].get("code")))
    return pd.DataFrame(rows, columns=["wamid", "status", "ts", "code"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--send-log", required=True)
    ap.add_argument("--webhooks", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--valid-days", type=int, default=7)
    a = ap.parse_args()
    t = {}
    t0 = time.perf_counter()

    # 1. export-like: read and join.
    sends = read_send_log(a.send_log)
    hooks = read_webhooks(a.webhooks)
    failed = hooks.loc[hooks["status"] == "failed", ["wamid"]].drop_duplicates()
    failed["webhook_failed"] = True
    sends = sends.merge(failed, on="wamid", how="left")
    sends["failed"] = (sends["api_error"].notna() | sends["webhook_failed"].fillna(False).astype(bool)).astype(np.int8)
    t["read_join_seconds"] = time.perf_counter() - t0

    # 2. point-in-time features.
    t1 = time.perf_counter()
    sends = sends.sort_values("sent_at", kind="stable").reset_index(drop=True)
    g = sends.groupby("to", sort=False)
    sends["prior_sends"] = g.cumcount()
    sends["prior_failures"] = g["failed"].cumsum() - sends["failed"]
    sends["prior_fail_rate"] = sends["prior_failures"] / sends["prior_sends"].where(sends["prior_sends"] > 0)
    sends["hour"] = sends["sent_at"].dt.hour
    sends["dow"] = sends["sent_at"].dt.dayofweek
    for c in ["campaign", "category", "template", "type"]:
        sends[c + "_code"] = sends[c].astype("category").cat.codes
    feats = ["prior_sends", "prior_failures", "prior_fail_rate", "hour", "dow", "campaign_code", "category_code", "template_code", "type_code"]
    cut = sends["sent_at"].max() - pd.Timedelta(days=a.valid_days)
    train, valid = sends[sends["sent_at"] < cut], sends[sends["sent_at"] >= cut]
    t["features_seconds"] = time.perf_counter() - t1

    # 3. train.
    t2 = time.perf_counter()
    dtrain = xgb.DMatrix(train[feats], label=train["failed"], nthread=a.threads)
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": a.depth, "eta": a.eta,
              "nthread": a.threads, "eval_metric": "aucpr"}
    booster = xgb.train(params, dtrain, num_boost_round=a.rounds)
    t["train_seconds"] = time.perf_counter() - t2

    # 4. score and write.
    t3 = time.perf_counter()
    p = booster.predict(xgb.DMatrix(valid[feats], nthread=a.threads))
    os.makedirs(a.out, exist_ok=True)
    pd.DataFrame({"request_id": valid["request_id"].values, "p_fail": p}).to_csv(os.path.join(a.out, "predictions.csv"), index=False)
    t["score_seconds"] = time.perf_counter() - t3

    y = valid["failed"].to_numpy()
    order = np.argsort(-p, kind="stable")
    tp = np.cumsum(y[order])
    prec = tp / np.arange(1, len(y) + 1)
    pr_auc = float(np.sum(prec[y[order] == 1]) / max(1, y.sum()))
    t.update({"seconds": time.perf_counter() - t0, "sends": int(len(sends)), "train_rows": int(len(train)),
              "valid_rows": int(len(valid)), "status_rows": int(len(hooks)), "valid_pr_auc": round(pr_auc, 4)})
    json.dump(t, sys.stdout)
    print()


if __name__ == "__main__":
    main()
