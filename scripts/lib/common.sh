# Sourced by scripts/chaos.sh and scripts/soak.sh: paths, messages, the launcher built once, the
# broker and cluster reused or started (and then stopped), job submission and cleanup.
# The sourcing script sets SCRIPT (its name in messages) and KAFKA_PORT before sourcing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KS="$ROOT/scripts/kanstream"
FL="$ROOT/scripts/flink-local.sh"
KL="$ROOT/scripts/kafka-local.sh"
export KANSTREAM_HOME="${KANSTREAM_HOME:-$ROOT/.kanstream}"
BS="localhost:$KAFKA_PORT"
TARGET="localhost:${FLINK_REST_PORT:-8081}"

say() { echo "$SCRIPT $(date +%H:%M:%S): $*" >&2; }
on_err() { echo "$SCRIPT: ERROR: command failed (exit $1) at line $2: $3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
now_ms() { date +%s%3N; }

# Builds the command line now if it needs it, then never again in this run: a source file saved
# while a long run goes on must not stall it with a rebuild.
build_once() {
  "$KS" --version > /dev/null
  export KANSTREAM_BUILD=never
}

started_kafka=false
started_flink=false
producer_pid=""
JOB=""

use_or_start_broker() {
  if "$KL" status --port "$KAFKA_PORT" > /dev/null 2>&1; then
    say "using the running broker on $BS"
  else
    "$KL" start --port "$KAFKA_PORT"
    started_kafka=true
  fi
}

use_or_start_cluster() {
  if "$FL" status > /dev/null 2>&1; then
    say "using the running Flink cluster on $TARGET"
  else
    "$FL" start --taskmanagers 2
    started_flink=true
  fi
}

# create_topics PREFIX: the five topics of one run, 4 partitions each
create_topics() {
  local t
  for t in events labels scores metrics dead-letters; do
    "$KL" topics create "$1-$t" 4 --port "$KAFKA_PORT" > /dev/null
  done
}

# submit_detached LOG RUN-FLAGS...: submits the job to the cluster and sets JOB to its id; the
# launcher's messages go to LOG, and what it resumed from to the terminal.
submit_detached() {
  local log="$1" id
  shift
  id="$("$KS" run --target "$TARGET" --detach "$@" 2>> "$log")" \
    || { cat "$log" >&2; say "submission failed"; return 1; }
  grep -E 'resuming|restoring|fresh' "$log" | tail -n 1 >&2 || true
  [[ "$id" =~ ^[0-9a-f]{32}$ ]] \
    || { cat "$log" >&2; say "the submission printed '$id', not a job id"; return 1; }
  JOB="$id"
}

stop_producer() {
  if [[ -n "$producer_pid" ]] && kill -0 "$producer_pid" 2> /dev/null; then
    kill -TERM "$producer_pid" 2> /dev/null || true
    wait "$producer_pid" 2> /dev/null || true
  fi
  producer_pid=""
}

# On exit: the producer stopped, our job cancelled if it still runs on a cluster we leave
# running, and whatever this run started stopped.
cleanup() {
  local rc=$? state
  trap - ERR
  stop_producer
  if [[ -n "$JOB" && "$started_flink" != true ]]; then
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
