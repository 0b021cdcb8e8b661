#!/usr/bin/env bash
# Compare failcast's gbdt with XGBoost (Debian's xgboost CLI, tree_method=hist)
# on the same synthetic, time-ordered binary dataset: fit seconds, predict
# rows/s, PR-AUC, ROC-AUC and log-loss on the validation rows.
#
# Usage: bench/gbdt_vs_xgboost.sh
# Environment (defaults in brackets):
#   ROWS [1250000]  total rows; the last VALID_FRAC of them are validation
#   VALID_FRAC [0.2] COLS [80] ROUNDS [200] DEPTH [6] ETA [0.1] BINS [255]
#   THREADS [2]     XGBoost nthread and our Workers
#   SEED [1]        dataset seed
#   WORK [a temp dir, removed at the end]  where data, models and predictions go
#
# Nothing is installed: without the xgboost binary the script says so and
# reports failcast's figures alone.
#
# How times are taken:
#   failcast: Fit's wall and CPU time (binning included, CSV reading
#     excluded), prediction as the best of three passes over the
#     validation matrix in memory.
#   XGBoost: fit is the CLI's own "Complete Training loop time" (quantile
#     sketch included, CSV loading excluded). Its fit CPU time is estimated
#     as the CPU time of the training run minus that of a run that only
#     loads train.csv (predicting it with a 1-round model). Prediction time
#     is the best of three full-model prediction runs minus the best of
#     three 1-round-model runs on the same file, which cancels CSV loading.
set -euo pipefail

ROWS=${ROWS:-1250000}
VALID_FRAC=${VALID_FRAC:-0.2}
COLS=${COLS:-80}
ROUNDS=${ROUNDS:-200}
DEPTH=${DEPTH:-6}
ETA=${ETA:-0.1}
BINS=${BINS:-255}
THREADS=${THREADS:-2}
SEED=${SEED:-1}

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n "${WORK:-}" ]]; then
	mkdir -p "$WORK"
	work=$(cd "$WORK" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

echo "== building the Go helper"
(cd "$repo" && go build -o "$work/gbdtbench" ./bench/gbdtbench)

echo "== generating $ROWS rows x $COLS features (seed $SEED) in $work"
gen_out=$("$work/gbdtbench" gen -dir "$work" -rows "$ROWS" -cols "$COLS" -valid-frac "$VALID_FRAC" -seed "$SEED")
echo "$gen_out"
kv() { sed -n "s/^$1=//p" <<<"$2"; }
pos_rate=$(kv train_positive_rate "$gen_out")
valid_rows=$(kv valid_rows "$gen_out")

echo "== failcast gbdt: $ROUNDS rounds, depth $DEPTH, eta $ETA, $BINS bins, $THREADS workers"
ours_out=$("$work/gbdtbench" fit -dir "$work" -rounds "$ROUNDS" -depth "$DEPTH" -eta "$ETA" -bins "$BINS" -workers "$THREADS")
echo "$ours_out"
ours_fit=$(kv fit_seconds "$ours_out")
ours_cpu=$(kv fit_cpu_seconds "$ours_out")
ours_rate=$(kv predict_rows_per_s "$ours_out")

xgb_args=()
if command -v xgboost >/dev/null 2>&1; then
	cd "$work"
	cat >xgb.conf <<EOF
booster = gbtree
objective = binary:logistic
tree_method = hist
nthread = $THREADS
max_depth = $DEPTH
eta = $ETA
max_bin = $BINS
lambda = 1
min_child_weight = 1
gamma = 0
subsample = 1
colsample_bytree = 1
base_score = $pos_rate
seed = $SEED
num_round = $ROUNDS
EOF
	train_data='train.csv?format=csv&label_column=0'
	valid_data='valid.csv?format=csv&label_column=0'
	TIMEFORMAT='%R %U %S'
	# timed CMD...: runs CMD with output in last.log, sets wall and cpu.
	timed() {
		local t
		t=$({ time "$@" >last.log 2>&1; } 2>&1)
		wall=$(awk '{print $1}' <<<"$t")
		cpu=$(awk '{print $2 + $3}' <<<"$t")
	}

	echo "== xgboost $(xgboost -V 2>&1 | head -n1): same parameters, tree_method=hist, nthread=$THREADS"
	timed xgboost xgb.conf "data=$train_data" model_out=xgb.model verbosity=3
	train_cpu=$cpu
	xgb_fit=$(sed -n 's/.*Complete Training loop time: \([0-9.]*\) sec.*/\1/p' last.log | tail -n1)
	if [[ -z "$xgb_fit" ]]; then
		echo "could not read XGBoost's training loop time; its log:" >&2
		cat last.log >&2
		exit 1
	fi
	timed xgboost xgb.conf "data=$train_data" num_round=1 model_out=xgb1.model
	timed xgboost xgb.conf task=pred model_in=xgb1.model "test:data=$train_data" name_pred=load_only.pred
	xgb_cpu=$(awk -v a="$train_cpu" -v b="$cpu" 'BEGIN { printf "%.3f", a - b }')

	best_full=999999 best_one=999999
	for _ in 1 2 3; do
		timed xgboost xgb.conf task=pred model_in=xgb.model "test:data=$valid_data" name_pred=xgb.pred
		best_full=$(awk -v a="$best_full" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
		timed xgboost xgb.conf task=pred model_in=xgb1.model "test:data=$valid_data" name_pred=xgb1.pred
		best_one=$(awk -v a="$best_one" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
	done
	xgb_rate=$(awk -v n="$valid_rows" -v f="$best_full" -v o="$best_one" -v r="$ROUNDS" \
		'BEGIN { d = (f - o) * r / (r - 1); if (d < 0.001) d = 0.001; printf "%.0f", n / d }')
	echo "fit_seconds=$xgb_fit"
	echo "fit_cpu_seconds=$xgb_cpu (estimate)"
	echo "predict_rows_per_s=$xgb_rate (estimate; full-model prediction ${best_full}s, 1-round ${best_one}s)"
	xgb_args=(-xgb-fit "$xgb_fit" -xgb-fit-cpu "$xgb_cpu" -xgb-rate "$xgb_rate")
	cd - >/dev/null
else
	echo "== xgboost not found: 'apt-get install xgboost' is needed for the comparison; reporting failcast alone"
fi

echo
"$work/gbdtbench" compare -dir "$work" -ours-fit "$ours_fit" -ours-fit-cpu "$ours_cpu" -ours-rate "$ours_rate" "${xgb_args[@]}"
