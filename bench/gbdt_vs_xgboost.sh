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
#   BIN_SAMPLE [0]  rows our bin edges are computed from (gbdtbench fit
#                   -bin-sample; 0: every training row). XGBoost's hist
#                   sketches every row, so 0 is the equal setting;
#                   failcast's default (gbdt.DefaultParams().BinSampleRows,
#                   200000) draws a sample, whose noise moves edges by a
#                   value or so
#   SEED [1]        dataset seed
#   REPEATS [1]     fits of each learner, interleaved (ours, XGBoost, ours, ...):
#                   on a shared machine the load changes during a run, so
#                   each pair's ratio is printed and the medians are compared
#   BEFORE [unset]  a git revision of this repository: its gbdtbench is built
#                   too and fitted before ours in every repeat, and the
#                   before/after ratios are printed (what a change gained,
#                   measured under the same load)
#   OMP_WAIT_POLICY [PASSIVE] XGBoost's OpenMP wait policy (empty: OpenMP's
#                   default); idle OpenMP threads that spin slow it down on a
#                   shared machine (see bench/README.md)
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
#     It also cancels XGBoost's per-row work that does not grow with the
#     trees (filling the row's feature vector, the sigmoid, the output:
#     about 7% of its prediction CPU at 200 depth-6 trees), which our
#     figure includes, so it flatters XGBoost, and it is a small difference
#     of two CSV-dominated runs, so it is noisy; bench/peers times XGBoost
#     in memory instead (bench/xgb_predict.py).
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
REPEATS=${REPEATS:-1}
BIN_SAMPLE=${BIN_SAMPLE:-0}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}

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
if [[ -n "${BEFORE:-}" ]]; then
	echo "== building the Go helper at $BEFORE"
	rm -rf "$work/before-src"
	mkdir -p "$work/before-src"
	git -C "$repo" archive "$BEFORE" | tar -x -C "$work/before-src"
	(cd "$work/before-src" && go build -o "$work/gbdtbench-before" ./bench/gbdtbench)
	rm -rf "$work/before-src"
fi

echo "== generating $ROWS rows x $COLS features (seed $SEED) in $work"
gen_out=$("$work/gbdtbench" gen -dir "$work" -rows "$ROWS" -cols "$COLS" -valid-frac "$VALID_FRAC" -seed "$SEED")
echo "$gen_out"
kv() { sed -n "s/^$1=//p" <<<"$2"; }
pos_rate=$(kv train_positive_rate "$gen_out")
valid_rows=$(kv valid_rows "$gen_out")

# median reads numbers on stdin and prints their median.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# fit_ours runs our fit once, appending its wall and CPU seconds to
# ours_fits and ours_cpus.
ours_fits=() ours_cpus=()
fit_ours() {
	echo "== failcast gbdt: $ROUNDS rounds, depth $DEPTH, eta $ETA, $BINS bins (edges from $BIN_SAMPLE rows, 0: all), $THREADS workers"
	ours_out=$("$work/gbdtbench" fit -dir "$work" -rounds "$ROUNDS" -depth "$DEPTH" -eta "$ETA" -bins "$BINS" -bin-sample "$BIN_SAMPLE" -workers "$THREADS")
	echo "$ours_out"
	ours_fits+=("$(kv fit_seconds "$ours_out")")
	ours_cpus+=("$(kv fit_cpu_seconds "$ours_out")")
	ours_rate=$(kv predict_rows_per_s "$ours_out")
}

# fit_before fits the BEFORE revision once (when set), appending its wall
# and CPU seconds to before_fits and before_cpus.
before_fits=() before_cpus=()
fit_before() {
	[[ -n "${BEFORE:-}" ]] || return 0
	echo "== failcast gbdt at $BEFORE: same parameters"
	local out
	out=$("$work/gbdtbench-before" fit -dir "$work" -rounds "$ROUNDS" -depth "$DEPTH" -eta "$ETA" -bins "$BINS" -bin-sample "$BIN_SAMPLE" -workers "$THREADS")
	echo "$out"
	before_fits+=("$(kv fit_seconds "$out")")
	before_cpus+=("$(kv fit_cpu_seconds "$out")")
	mv "$work/ours.pred" "$work/before.pred"
}

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

	xgb_fits=() xgb_cpus=()
	for rep in $(seq "$REPEATS"); do
		fit_before
		fit_ours
		echo "== xgboost $(xgboost -V 2>&1 | head -n1): same parameters, tree_method=hist, nthread=$THREADS, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(default)} (fit $rep of $REPEATS)"
		timed xgboost xgb.conf "data=$train_data" model_out=xgb.model verbosity=3
		xgb_cpus+=("$cpu")
		fit=$(sed -n 's/.*Complete Training loop time: \([0-9.]*\) sec.*/\1/p' last.log | tail -n1)
		if [[ -z "$fit" ]]; then
			echo "could not read XGBoost's training loop time; its log:" >&2
			cat last.log >&2
			exit 1
		fi
		xgb_fits+=("$fit")
		echo "fit_seconds=$fit"
	done
	# XGBoost's fit CPU time: that of a training run minus that of a run
	# which only loads train.csv (the load's CPU is measured once).
	timed xgboost xgb.conf "data=$train_data" num_round=1 model_out=xgb1.model
	timed xgboost xgb.conf task=pred model_in=xgb1.model "test:data=$train_data" name_pred=load_only.pred
	load_cpu=$cpu
	xgb_fit_cpus=()
	for c in "${xgb_cpus[@]}"; do
		xgb_fit_cpus+=("$(awk -v a="$c" -v b="$load_cpu" 'BEGIN { printf "%.3f", a - b }')")
	done

	best_full=999999 best_one=999999
	for _ in 1 2 3; do
		timed xgboost xgb.conf task=pred model_in=xgb.model "test:data=$valid_data" name_pred=xgb.pred
		best_full=$(awk -v a="$best_full" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
		timed xgboost xgb.conf task=pred model_in=xgb1.model "test:data=$valid_data" name_pred=xgb1.pred
		best_one=$(awk -v a="$best_one" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
	done
	xgb_rate=$(awk -v n="$valid_rows" -v f="$best_full" -v o="$best_one" -v r="$ROUNDS" \
		'BEGIN { d = (f - o) * r / (r - 1); if (d < 0.001) d = 0.001; printf "%.0f", n / d }')
	xgb_fit=$(printf '%s\n' "${xgb_fits[@]}" | median)
	xgb_cpu=$(printf '%s\n' "${xgb_fit_cpus[@]}" | median)
	echo "fit_seconds=$xgb_fit (median of $REPEATS)"
	echo "fit_cpu_seconds=$xgb_cpu (estimate, median of $REPEATS)"
	echo "predict_rows_per_s=$xgb_rate (estimate; full-model prediction ${best_full}s, 1-round ${best_one}s)"
	xgb_args=(-xgb-fit "$xgb_fit" -xgb-fit-cpu "$xgb_cpu" -xgb-rate "$xgb_rate")
	if ((REPEATS > 1)); then
		echo
		echo "fit pairs in run order (failcast wall / XGBoost wall, failcast CPU / XGBoost CPU):"
		for i in "${!xgb_fits[@]}"; do
			awk -v i=$((i + 1)) -v ow="${ours_fits[i]}" -v xw="${xgb_fits[i]}" -v oc="${ours_cpus[i]}" -v xc="${xgb_fit_cpus[i]}" \
				'BEGIN { printf "pair %d: %.2fs / %.2fs = %.3f wall, %.2fs / %.2fs = %.3f CPU\n", i, ow, xw, ow / xw, oc, xc, oc / xc }'
		done
	fi
	cd - >/dev/null
else
	echo "== xgboost not found: 'apt-get install xgboost' is needed for the comparison; reporting failcast alone"
	for _ in $(seq "$REPEATS"); do
		fit_before
		fit_ours
	done
fi
if [[ -n "${BEFORE:-}" ]]; then
	echo
	echo "before ($BEFORE) / after fits in run order (wall, CPU):"
	for i in "${!before_fits[@]}"; do
		awk -v i=$((i + 1)) -v bw="${before_fits[i]}" -v aw="${ours_fits[i]}" -v bc="${before_cpus[i]}" -v ac="${ours_cpus[i]}" \
			'BEGIN { printf "pair %d: %.2fs -> %.2fs wall (%.3fx), %.2fs -> %.2fs CPU (%.3fx)\n", i, bw, aw, aw / bw, bc, ac, ac / bc }'
	done
	"$work/gbdtbench" compare -dir "$work" -pred before.pred -ours-fit 0 | sed -n 's/^PR-AUC/before PR-AUC/p'
fi
ours_fit=$(printf '%s\n' "${ours_fits[@]}" | median)
ours_cpu=$(printf '%s\n' "${ours_cpus[@]}" | median)

echo
"$work/gbdtbench" compare -dir "$work" -ours-fit "$ours_fit" -ours-fit-cpu "$ours_cpu" -ours-rate "$ours_rate" "${xgb_args[@]}"
