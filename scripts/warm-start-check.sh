#!/usr/bin/env bash
# What a model from `fit` does when a stream starts from it, in one run: for each stream and seed,
# fit on the stream's first part, then replay the rest (`replay --model`, what `run --model` would
# score and learn) from the model as `fit` writes it (no momentum) and as it trained (`fit --beta1
# 0.9`: momentum kept), beside a cold start and the replay's own baselines (online logistic or
# linear model, no-change). Streams: ELEC2, ELEC2 with the lag label, and a regression whose
# inputs glide by 3 sd while its concept turns halfway (drawn by awk from the seed).
#
#   scripts/warm-start-check.sh [--seeds N] [--out DIR]     (default 3 seeds, reports/warm-start)
#
# Prints one table of mean and per-seed figures: accuracy and log-loss, or RMSE. Deterministic for
# a given build and awk.
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seeds=3
out="$root/reports/warm-start"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$seeds" =~ ^[1-9][0-9]*$ ]] || { echo "--seeds must be a positive whole number" >&2; exit 2; }
k="$root/scripts/kanstream"
mkdir -p "$out"
cd "$out"

elec="$root/data/electricity/electricity.csv"
fit_rows=11328 # ELEC2's first quarter
# features date..transfer, the label 1 for UP; with the lag label the previous row's label before it
awk -F, -v n="$fit_rows" 'NR>1 && NR<=n+1 {print $1","$2","$3","$4","$5","$6","$7","$8","($9=="UP")}' \
  "$elec" > elec2.fit.csv
awk -F, -v n="$fit_rows" 'BEGIN{l=0} NR>1 && NR<=n+1 {y=($9=="UP"); print $1","$2","$3","$4","$5","$6","$7","$8","l","y; l=y}' \
  "$elec" > elec2-lag.fit.csv
(head -1 "$elec"; tail -n +$((fit_rows + 2)) "$elec") > elec2.rest.csv
cp elec2.rest.csv elec2-lag.rest.csv

# the regression: x ~ N(shift, 1) with the shift gliding 0 -> 3; y = sin x0 + w x1 x2 / 2 + 0.3 x2
# + N(0, 0.1), w turning from 1 to -1 halfway; its first 8,000 rows to fit on
regression() {
  awk -v seed="$1" -v n=40000 -v cut=8000 -v fit="$2" -v rest="$3" 'function g() {
      return sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand()) }
    BEGIN { srand(seed); print "x0,x1,x2,y" > rest
      for (i = 0; i < n; i++) { s = 3 * i / n; a = g() + s; b = g() + s; c = g() + s
        w = i < n / 2 ? 1 : -1; y = sin(a) + w * 0.5 * b * c + 0.3 * c + 0.1 * g()
        line = sprintf("%.5f,%.5f,%.5f,%.5f", a, b, c, y)
        if (i < cut) print line > fit; else print line > rest } }'
}

# the figures of one model's row in a replay's printed table: accuracy and log-loss, or RMSE
figures() { # replay-output model
  awk -v m="$2" '$1=="model" { for (i = 2; i <= NF; i++) col[$i] = i }
    $1==m { if ("rmse" in col) printf "%.4f", $(col["rmse"]);
            else printf "%.2f%% (%.3f)", 100 * $(col["accuracy"]), $(col["log_loss"]) }' "$1"
}

printf '%-12s %-5s %-22s %-22s %-22s %-22s %-22s\n' stream seed "fitted, no momentum" \
  "fitted, momentum kept" "cold start" "logistic/linear" "no-change" | tee table.txt
for stream in elec2 elec2-lag regression; do
  for ((s = 1; s <= seeds; s++)); do
    replay=(--label-column class --positive-label UP)
    fit=(--task binary --layers 8,8,1)
    case "$stream" in
      elec2-lag) replay+=(--lag-label); fit=(--task binary --layers 9,8,1) ;;
      regression)
        regression "$s" regression.fit.csv regression.rest.csv
        replay=(--label-column y); fit=(--task regression --layers 3,8,1) ;;
    esac
    "$k" fit --data "$stream.fit.csv" "${fit[@]}" --seed "$s" --out "$stream-$s.kans" > /dev/null
    "$k" fit --data "$stream.fit.csv" "${fit[@]}" --seed "$s" --beta1 0.9 \
      --out "$stream-$s-momentum.kans" > /dev/null
    for arm in "" -momentum; do
      "$k" replay --input "$stream.rest.csv" "${replay[@]}" --model "$stream-$s$arm.kans" \
        --report "replay-$stream-$s$arm" > "replay-$stream-$s$arm.txt"
    done
    "$k" replay --input "$stream.rest.csv" "${replay[@]}" --seed "$s" \
      --report "replay-$stream-$s-cold" > "replay-$stream-$s-cold.txt"
    printf '%-12s %-5s %-22s %-22s %-22s %-22s %-22s\n' "$stream" "$s" \
      "$(figures "replay-$stream-$s.txt" kan)" "$(figures "replay-$stream-$s-momentum.txt" kan)" \
      "$(figures "replay-$stream-$s-cold.txt" kan)" "$(figures "replay-$stream-$s-cold.txt" linear)" \
      "$(figures "replay-$stream-$s-cold.txt" no_change)" | tee -a table.txt
  done
  # the mean over the seeds, column by column (accuracy and log-loss averaged apart)
  awk -v st="$stream" '$1==st { for (c = 1; c <= 5; c++) {
        if (NF == 7) { a[c] += $(c + 2); continue } # RMSE only
        v = $(2 * c + 1); sub(/%/, "", v); a[c] += v
        l = $(2 * c + 2); gsub(/[()]/, "", l); b[c] += l }
      n++ }
    END { printf "%-12s %-5s", st, "mean"
      for (c = 1; c <= 5; c++) printf " %-22s", (b[c] > 0 ? sprintf("%.2f%% (%.3f)", a[c] / n, b[c] / n) : sprintf("%.4f", a[c] / n))
      printf "\n" }' table.txt | tee -a table.txt
done
echo "table: $out/table.txt (each replay's report beside it)"
