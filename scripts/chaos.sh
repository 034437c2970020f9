#!/usr/bin/env bash
# chaos.sh — the online-learning job on a real multi-JVM Flink cluster against a real Kafka
# broker, a steady labeled stream in, and faults injected one after another:
#   1. taskmanager-kill    SIGKILL of a TaskManager holding the job's slots, a new one started
#   2. kafka-restart       the broker stopped and started again
#   3. savepoint-rescale   stop-with-savepoint, resume from it at another parallelism
#   4. cancel-resubmit     the job cancelled and submitted again to the same session cluster
#                          (resumes from the newest retained checkpoint; the DJL classloader trap)
# then fuzz records into the live job, the stream stopped, and `kanstream chaos verify` reads the
# topics read_committed and prints the JSON summary. Exit 1 when an id is missing or duplicated,
# a step counter went back, a fault did not recover, a fuzz record is unaccounted for, the job
# restarted because of input, or a log names "already loaded in another classloader".
#
# Uses a running broker / cluster when there is one (under the same KANSTREAM_HOME), otherwise
# starts them and stops them at the end. Topics and checkpoints are new for every run.
set -Eeuo pipefail
SCRIPT=chaos

QUICK=false
KAFKA_PORT="${KAFKA_PORT:-9092}"
RATE=""
KEYS=4
FUZZ=10000
SETTLE=""
JOB_EXTRA=""

usage() {
  cat <<EOF
Usage: $(basename "$0") [--quick] [--kafka-port N] [--rate R] [--keys K] [--fuzz N] [--settle S]
                [--job-args "RUN FLAGS"]

  --quick          under 10 minutes: short steady periods between the faults
  --kafka-port N   the broker's port (default \$KAFKA_PORT or 9092); started if not running
  --rate R         labeled events per second (default 40 quick, 60 otherwise)
  --keys K         model keys in the stream (default $KEYS)
  --fuzz N         mutated records sent into the live job after the faults (default $FUZZ; 0: none)
  --settle S       seconds of steady stream before each fault (default 10 quick, 60 otherwise)
  --job-args FLAGS more \`kanstream run\` flags for every submission, e.g. "--bundle-size 64 --bundle-latency 20ms"

The Flink cluster is scripts/flink-local.sh's (web UI localhost:\${FLINK_REST_PORT:-8081}).
State, logs and the summary go to \$KANSTREAM_HOME/chaos/<run>/ (default KANSTREAM_HOME: .kanstream/).
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=true; shift ;;
    --kafka-port) KAFKA_PORT="${2:?--kafka-port needs a value}"; shift 2 ;;
    --rate) RATE="${2:?--rate needs a value}"; shift 2 ;;
    --keys) KEYS="${2:?--keys needs a value}"; shift 2 ;;
    --fuzz) FUZZ="${2:?--fuzz needs a value}"; shift 2 ;;
    --settle) SETTLE="${2:?--settle needs a value}"; shift 2 ;;
    --job-args) JOB_EXTRA="${2:?--job-args needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "chaos: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in KAFKA_PORT KEYS FUZZ; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "chaos: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
if [[ "$QUICK" == true ]]; then RATE="${RATE:-40}"; SETTLE="${SETTLE:-10}"; else RATE="${RATE:-60}"; SETTLE="${SETTLE:-60}"; fi

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
start_run
RUN_ID="chaos-$(date +%Y%m%d-%H%M%S)"
RUN_DIR="$KANSTREAM_HOME/chaos/$RUN_ID"
mkdir -p "$RUN_DIR"
T_EVENTS="$RUN_ID-events" T_LABELS="$RUN_ID-labels" T_SCORES="$RUN_ID-scores"
T_METRICS="$RUN_ID-metrics" T_DEAD="$RUN_ID-dead-letters"
FAULTS="$RUN_DIR/faults.jsonl"
: > "$FAULTS"
MAX_RECORD_BYTES=65536
JOBS=()

job_args() {
  echo --bootstrap-servers "$BS" --events-topic "$T_EVENTS" --labels-topic "$T_LABELS" \
    --scores-topic "$T_SCORES" --metrics-topic "$T_METRICS" --dead-letter-topic "$T_DEAD" \
    --checkpoint-dir "$RUN_DIR/checkpoints" --checkpoint-interval 2s \
    --transactional-id-prefix "$RUN_ID" --batch-size 8 --metrics-every 20 \
    --restart-attempts 1000 --max-record-bytes "$MAX_RECORD_BYTES" --no-create-topics \
    $JOB_EXTRA
}

# Submits the job (detached) with extra run flags; sets JOB and appends it to JOBS.
submit() {
  # shellcheck disable=SC2046  # job_args is a word list without spaces inside words
  submit_detached "$RUN_DIR/submissions.log" $(job_args) "$@"
  JOBS+=("$JOB")
  say "job $JOB submitted ($*)"
}

steps() { "$KS" chaos steps --bootstrap-servers "$BS" --metrics-topic "$T_METRICS"; }

# fault NAME DETAIL FUNCTION: steps before, inject, wait for recovery, one line in faults.jsonl
fault() {
  local name="$1" detail="$2" inject="$3" before since line recovered seconds
  sleep "$SETTLE"
  before="$(steps)"
  since="$(now_ms)"
  say "fault $name: $detail (steps before $before)"
  "$inject"
  line="$("$KS" chaos wait-recovered --target "$TARGET" --job "$JOB" --name "$name" \
    --detail "$detail" --since "$since" --steps-before "$before" --timeout 240s \
    --bootstrap-servers "$BS" --metrics-topic "$T_METRICS")"
  echo "$line" >> "$FAULTS"
  { read -r recovered; read -r seconds; } \
    < <("$KS" chaos field recovered seconds_to_recover <<< "$line")
  say "fault $name: recovered $recovered after $seconds s"
}

kill_taskmanager() {
  local tm n next
  tm="$("$KS" chaos job busy-taskmanager --target "$TARGET")"
  n="${tm#tm-}"
  next=$(( $("$FL" taskmanager pids | awk '{print $1}' | sort -n | tail -1) + 1 ))
  say "SIGKILL TaskManager $n ($tm), starting TaskManager $next"
  "$FL" taskmanager kill "$n"
  "$FL" taskmanager start "$next"
}

restart_kafka() {
  "$KL" stop --port "$KAFKA_PORT"
  sleep 5
  "$KL" start --port "$KAFKA_PORT"
}

savepoint_rescale() {
  local savepoint
  savepoint="$("$KS" chaos job stop "$JOB" --target "$TARGET" \
    --savepoint-dir "file://$RUN_DIR/checkpoints/savepoints")"
  say "stopped with savepoint $savepoint"
  submit --restore-from "$savepoint" --parallelism 3
}

cancel_resubmit() {
  "$KS" chaos job cancel "$JOB" --target "$TARGET"
  say "job $JOB cancelled"
  submit --parallelism 3
}

# --- set-up -------------------------------------------------------------------------------------
t0=$SECONDS
build_once
use_or_start_broker
use_or_start_cluster
create_topics "$RUN_ID"

submit --fresh --parallelism 2
"$KS" produce --synthetic drift --rate "$RATE" --count 100000000 --keys "$KEYS" --seed 7 \
  --bootstrap-servers "$BS" --events-topic "$T_EVENTS" > "$RUN_DIR/producer.log" 2>&1 &
producer_pid=$!
say "producing $RATE labeled events/s over $KEYS keys (pid $producer_pid)"

# warm-up: every key has committed metrics
deadline=$((SECONDS + 240))
until [[ "$(steps | "$KS" chaos field --count .)" -ge "$KEYS" ]]; do
  (( SECONDS < deadline )) || { say "no metrics for every key after 240 s"; exit 1; }
  kill -0 "$producer_pid" 2> /dev/null || { cat "$RUN_DIR/producer.log" >&2; say "producer died"; exit 1; }
  sleep 3
done
say "warm: $(steps)"

# --- faults -------------------------------------------------------------------------------------
fault taskmanager-kill "SIGKILL of the TaskManager holding the most slots, a new one started" kill_taskmanager
fault kafka-restart "broker stopped (SIGTERM), 5 s down, started again" restart_kafka
fault savepoint-rescale "stop-with-savepoint at parallelism 2, resumed from it at 3" savepoint_rescale
fault cancel-resubmit "job cancelled, resubmitted to the same session cluster (newest retained checkpoint)" cancel_resubmit

# --- fuzz ---------------------------------------------------------------------------------------
fuzz_restarts_before=0
if (( FUZZ > 0 )); then
  fuzz_restarts_before="$("$KS" chaos job restarts "$JOB" --target "$TARGET")"
  say "fuzz: $FUZZ mutated records into $T_EVENTS"
  "$KS" produce --fuzz "$FUZZ" --rate 0 --seed 7 --bootstrap-servers "$BS" \
    --events-topic "$T_EVENTS" --oversized-bytes 200000 >&2
fi

# --- stop the stream, let the job catch up, verify ----------------------------------------------
sleep "$SETTLE"
kill -TERM "$producer_pid" 2> /dev/null || true
wait "$producer_pid" 2> /dev/null || true
producer_pid=""
say "producer stopped; verifying (waits until every event is scored)"
set +e
"$KS" chaos verify --bootstrap-servers "$BS" --events-topic "$T_EVENTS" --scores-topic "$T_SCORES" \
  --metrics-topic "$T_METRICS" --dead-letter-topic "$T_DEAD" --features 4 \
  --max-record-bytes "$MAX_RECORD_BYTES" --faults "$FAULTS" --logs "$("$FL" logs)" \
  --target "$TARGET" --jobs "$(IFS=,; echo "${JOBS[*]}")" --wait 300s \
  --fuzz-job "$JOB" --fuzz-restarts-before "$fuzz_restarts_before" \
  --extra "{\"run\":\"$RUN_ID\",\"quick\":$QUICK,\"rate\":$RATE,\"keys\":$KEYS,\"seconds\":$((SECONDS - t0))}" \
  > "$RUN_DIR/summary.json"
rc=$?
set -e
"$KS" chaos job stop "$JOB" --target "$TARGET" --savepoint-dir "file://$RUN_DIR/checkpoints/savepoints" > /dev/null \
  && JOB="" || say "could not stop job $JOB with a savepoint"
cat "$RUN_DIR/summary.json"
say "summary in $RUN_DIR/summary.json; $( ((rc == 0)) && echo OK || echo FAILED)"
exit "$rc"
