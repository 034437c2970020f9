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
on_err() { echo "chaos: ERROR: command failed (exit $1) at line $2: $3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KS="$ROOT/scripts/kanstream"
FL="$ROOT/scripts/flink-local.sh"
KL="$ROOT/scripts/kafka-local.sh"
export KANSTREAM_HOME="${KANSTREAM_HOME:-$ROOT/.kanstream}"

QUICK=false
KAFKA_PORT="${KAFKA_PORT:-9092}"
RATE=""
KEYS=4
FUZZ=10000
SETTLE=""

usage() {
  cat <<EOF
Usage: $(basename "$0") [--quick] [--kafka-port N] [--rate R] [--keys K] [--fuzz N] [--settle S]

  --quick          under 10 minutes: short steady periods between the faults
  --kafka-port N   the broker's port (default \$KAFKA_PORT or 9092); started if not running
  --rate R         labeled events per second (default 40 quick, 60 otherwise)
  --keys K         model keys in the stream (default $KEYS)
  --fuzz N         mutated records sent into the live job after the faults (default $FUZZ; 0: none)
  --settle S       seconds of steady stream before each fault (default 10 quick, 60 otherwise)

The Flink cluster is scripts/flink-local.sh's (web UI localhost:\${FLINK_REST_PORT:-8081}).
State, logs and the summary go to \$KANSTREAM_HOME/chaos/<run>/ (KANSTREAM_HOME=$KANSTREAM_HOME).
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
    -h|--help) usage; exit 0 ;;
    *) echo "chaos: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in KAFKA_PORT KEYS FUZZ; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "chaos: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
if [[ "$QUICK" == true ]]; then RATE="${RATE:-40}"; SETTLE="${SETTLE:-10}"; else RATE="${RATE:-60}"; SETTLE="${SETTLE:-60}"; fi

RUN_ID="chaos-$(date +%Y%m%d-%H%M%S)"
RUN_DIR="$KANSTREAM_HOME/chaos/$RUN_ID"
mkdir -p "$RUN_DIR"
BS="localhost:$KAFKA_PORT"
TARGET="localhost:${FLINK_REST_PORT:-8081}"
T_EVENTS="$RUN_ID-events" T_LABELS="$RUN_ID-labels" T_SCORES="$RUN_ID-scores"
T_METRICS="$RUN_ID-metrics" T_DEAD="$RUN_ID-dead-letters"
FAULTS="$RUN_DIR/faults.jsonl"
: > "$FAULTS"
MAX_RECORD_BYTES=65536

say() { echo "chaos $(date +%H:%M:%S): $*" >&2; }

started_kafka=false
started_flink=false
producer_pid=""
JOB=""
JOBS=()

cleanup() {
  local rc=$?
  trap - ERR
  if [[ -n "$producer_pid" ]] && kill -0 "$producer_pid" 2> /dev/null; then
    kill -TERM "$producer_pid" 2> /dev/null || true
    wait "$producer_pid" 2> /dev/null || true
  fi
  if [[ -n "$JOB" && "$started_flink" != true ]]; then
    # a cluster we did not start keeps running: leave no job of ours on it
    local state
    state="$("$KS" chaos job state "$JOB" --target "$TARGET" 2> /dev/null || true)"
    if [[ "$state" == RUNNING || "$state" == RESTARTING || "$state" == CREATED ]]; then
      say "cancelling job $JOB"
      "$KS" chaos job cancel "$JOB" --target "$TARGET" > /dev/null 2>&1 || true
    fi
  fi
  if [[ "$started_flink" == true ]]; then "$FL" stop || true; fi
  if [[ "$started_kafka" == true ]]; then "$KL" stop --port "$KAFKA_PORT" || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

job_args() {
  echo --bootstrap-servers "$BS" --events-topic "$T_EVENTS" --labels-topic "$T_LABELS" \
    --scores-topic "$T_SCORES" --metrics-topic "$T_METRICS" --dead-letter-topic "$T_DEAD" \
    --checkpoint-dir "$RUN_DIR/checkpoints" --checkpoint-interval 2s \
    --transactional-id-prefix "$RUN_ID" --batch-size 8 --metrics-every 20 \
    --restart-attempts 1000 --max-record-bytes "$MAX_RECORD_BYTES" --no-create-topics
}

# Submits the job (detached) with extra run flags; sets JOB and appends it to JOBS.
submit() {
  local out
  # shellcheck disable=SC2046  # job_args is a word list without spaces inside words
  out="$("$KS" run --target "$TARGET" --detach $(job_args) "$@" 2>&1)" \
    || { echo "$out" >&2; say "submission failed"; return 1; }
  echo "$out" >> "$RUN_DIR/submissions.log"
  echo "$out" | grep -E 'resuming|restoring|fresh' >&2 || true
  JOB="$(sed -n 's/^job-id //p' <<< "$out")"
  [[ -n "$JOB" ]] || { echo "$out" >&2; say "no job id in the submission's output"; return 1; }
  JOBS+=("$JOB")
  say "job $JOB submitted ($*)"
}

steps() { "$KS" chaos steps --bootstrap-servers "$BS" --metrics-topic "$T_METRICS"; }

# fault NAME DETAIL FUNCTION: steps before, inject, wait for recovery, one line in faults.jsonl
fault() {
  local name="$1" detail="$2" inject="$3" before since line
  sleep "$SETTLE"
  before="$(steps)"
  since="$(now_ms)"
  say "fault $name: $detail (steps before $before)"
  "$inject"
  line="$("$KS" chaos wait-recovered --target "$TARGET" --job "$JOB" --name "$name" \
    --detail "$detail" --since "$since" --steps-before "$before" --timeout 240s \
    --bootstrap-servers "$BS" --metrics-topic "$T_METRICS")"
  echo "$line" >> "$FAULTS"
  say "fault $name: $(sed -n 's/.*"recovered":\([a-z]*\).*"seconds_to_recover":\([0-9.]*\).*/recovered \1 after \2 s/p' <<< "$line")"
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
if "$KL" status --port "$KAFKA_PORT" > /dev/null 2>&1; then
  say "using the running broker on $BS"
else
  "$KL" start --port "$KAFKA_PORT"
  started_kafka=true
fi
if "$FL" status > /dev/null 2>&1; then
  say "using the running Flink cluster on $TARGET"
else
  "$FL" start --taskmanagers 2
  started_flink=true
fi
"$KS" --version > /dev/null   # builds once when sources changed
for t in "$T_EVENTS" "$T_LABELS" "$T_SCORES" "$T_METRICS" "$T_DEAD"; do
  "$KL" topics create "$t" 4 --port "$KAFKA_PORT" > /dev/null
done

submit --fresh --parallelism 2
"$KS" produce --synthetic drift --rate "$RATE" --count 100000000 --keys "$KEYS" --seed 7 \
  --bootstrap-servers "$BS" --events-topic "$T_EVENTS" > "$RUN_DIR/producer.log" 2>&1 &
producer_pid=$!
say "producing $RATE labeled events/s over $KEYS keys (pid $producer_pid)"

# warm-up: every key has committed metrics
deadline=$((SECONDS + 240))
until [[ "$(steps | grep -o '":' | wc -l)" -ge "$KEYS" ]]; do
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
