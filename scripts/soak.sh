#!/usr/bin/env bash
# soak.sh — a long run of the job on the local Flink cluster (scripts/flink-local.sh): N events
# over K distinct keys (K = N: every event a new key, the key-explosion case), against a limit of
# live keys per subtask. Samples every TaskManager's resident set size (/proc/PID/status VmRSS)
# and the learner's metrics (kanLiveKeys, kanEvictions, ...) while the job works through the
# stream, then prints a JSON summary: RSS per TaskManager at the start, after warm-up and at the
# end; peak live keys per subtask; evictions; events/s; restarts.
#
# Uses a running broker / cluster when there is one (same KANSTREAM_HOME), otherwise starts them
# and stops them at the end.
set -Eeuo pipefail
SCRIPT=soak

EVENTS=1000000
KEYS=1000000
MAX_LIVE_KEYS=10000
RATE=0
PARALLELISM=2
# RocksDB: with the heap backend every live key's state (about 15 KB for the default 4,8,1 model)
# sits on the TaskManager's heap; 10,000 keys per subtask is ~150 MB per slot, more than the
# local cluster's task heap holds for two slots (measured: OutOfMemoryError, see docs/reliability.md)
STATE_BACKEND=rocksdb
SAMPLE_EVERY=15
TIMEOUT=7200
KAFKA_PORT="${KAFKA_PORT:-9092}"

usage() {
  cat <<EOF
Usage: $(basename "$0") [--events N] [--keys K] [--max-live-keys M] [--rate R] [--parallelism P]
                  [--sample-every S] [--timeout S] [--kafka-port N]

  --events N         events to send (default $EVENTS)
  --keys K           distinct model keys, round-robin (default $KEYS)
  --max-live-keys M  the job's limit of keys holding state per subtask (default $MAX_LIVE_KEYS)
  --rate R           events/s sent; 0: as fast as the broker takes them (default $RATE)
  --parallelism P    the job's parallelism (default $PARALLELISM)
  --state-backend B  rocksdb|hashmap (default $STATE_BACKEND)
  --sample-every S   seconds between samples (default $SAMPLE_EVERY)
  --timeout S        give up after S seconds (default $TIMEOUT)
  --kafka-port N     the broker's port (default \$KAFKA_PORT or 9092)

Samples and the summary go to \$KANSTREAM_HOME/soak/<run>/ (default KANSTREAM_HOME: .kanstream/).
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="${2:?}"; shift 2 ;;
    --keys) KEYS="${2:?}"; shift 2 ;;
    --max-live-keys) MAX_LIVE_KEYS="${2:?}"; shift 2 ;;
    --rate) RATE="${2:?}"; shift 2 ;;
    --parallelism) PARALLELISM="${2:?}"; shift 2 ;;
    --state-backend) STATE_BACKEND="${2:?}"; shift 2 ;;
    --sample-every) SAMPLE_EVERY="${2:?}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --kafka-port) KAFKA_PORT="${2:?}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in EVENTS KEYS MAX_LIVE_KEYS PARALLELISM SAMPLE_EVERY TIMEOUT KAFKA_PORT; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 ]] || { echo "soak: --${v,,} must be a positive whole number, got '${!v}'" >&2; exit 2; }
done

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
start_run
RUN_ID="soak-$(date +%Y%m%d-%H%M%S)"
RUN_DIR="$KANSTREAM_HOME/soak/$RUN_ID"
mkdir -p "$RUN_DIR"
SAMPLES="$RUN_DIR/samples.jsonl"
: > "$SAMPLES"

build_once
use_or_start_broker
use_or_start_cluster
create_topics "$RUN_ID"

submit_detached "$RUN_DIR/submissions.log" --fresh --no-create-topics \
  --bootstrap-servers "$BS" --events-topic "$RUN_ID-events" --labels-topic "$RUN_ID-labels" \
  --scores-topic "$RUN_ID-scores" --metrics-topic "$RUN_ID-metrics" \
  --dead-letter-topic "$RUN_ID-dead-letters" --checkpoint-dir "$RUN_DIR/checkpoints" \
  --transactional-id-prefix "$RUN_ID" --parallelism "$PARALLELISM" \
  --max-live-keys "$MAX_LIVE_KEYS" --checkpoint-interval 10s \
  --state-backend "$STATE_BACKEND"
say "job $JOB: $EVENTS events over $KEYS keys, --max-live-keys $MAX_LIVE_KEYS per subtask, parallelism $PARALLELISM"

until "$KS" chaos job running "$JOB" --target "$TARGET"; do sleep 2; done
t0="$(date +%s%3N)"
pids="$("$FL" taskmanager pids | awk '{printf "%stm-%s:%s", (NR > 1 ? "," : ""), $1, $2}')"
"$KS" chaos sample --target "$TARGET" --job "$JOB" --t0 "$t0" --pids "$pids" >> "$SAMPLES"

"$KS" produce --synthetic drift --rate "$RATE" --count "$EVENTS" --keys "$KEYS" --seed 11 \
  --bootstrap-servers "$BS" --events-topic "$RUN_ID-events" > "$RUN_DIR/producer.log" 2>&1 &
producer_pid=$!

deadline=$((SECONDS + TIMEOUT))
while :; do
  sleep "$SAMPLE_EVERY"
  line="$("$KS" chaos sample --target "$TARGET" --job "$JOB" --t0 "$t0" --pids "$pids")"
  echo "$line" >> "$SAMPLES"
  # done when the learner has scored them all (its counter, not the parser's: records in flight)
  { read -r done_events; read -r state; read -r rss; } \
    < <("$KS" chaos field learner.kanEvents.sum state rss_kib --default 0 <<< "$line")
  done_events="${done_events%.*}"
  say "$done_events / $EVENTS events; RSS KiB $rss"
  (( done_events >= EVENTS )) && break
  if [[ "$state" == FAILED || "$state" == CANCELED || "$state" == FINISHED ]]; then
    say "the job is no longer running: $state"; break
  fi
  (( SECONDS < deadline )) || { say "timeout after ${TIMEOUT}s"; break; }
done
wait "$producer_pid" 2> /dev/null || true
producer_pid=""
cat "$RUN_DIR/producer.log" >&2

# warm-up: until the live keys reach the limit (key explosion), else the first 20% of the events
warmup=(--warmup 0.2)
(( KEYS / PARALLELISM > MAX_LIVE_KEYS )) && warmup+=(--warmup-live-keys "$MAX_LIVE_KEYS")
"$KS" chaos soak-report "$SAMPLES" "${warmup[@]}" --extra "{\"run\":\"$RUN_ID\",\"job\":\"$JOB\",\"events_sent\":$EVENTS,\"keys\":$KEYS,\"max_live_keys_per_subtask\":$MAX_LIVE_KEYS,\"parallelism\":$PARALLELISM,\"state_backend\":\"$STATE_BACKEND\"}" \
  | tee "$RUN_DIR/summary.json"
"$KS" chaos job stop "$JOB" --target "$TARGET" --savepoint-dir "file://$RUN_DIR/checkpoints/savepoints" > /dev/null \
  && JOB="" || say "could not stop job $JOB with a savepoint"
say "summary in $RUN_DIR/summary.json"
