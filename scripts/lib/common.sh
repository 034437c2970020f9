# Sourced by the scripts in scripts/: what they share. The sourcing script sets SCRIPT (its name in
# messages) first. Functions only, and a trap that names a failing command: nothing here starts,
# stops or writes anything when sourced.
#   - messages: log, die, say; the ERR trap
#   - a Maven-resolved classpath, cached: classpath_cached, resolve_classpath
#   - processes of ours, found by markers on their command line: find_pid, stop_pid; a lock
#   - for chaos.sh and soak.sh: the broker and cluster reused or started, job submission, cleanup
#     (start_run sets BS and TARGET from KAFKA_PORT and FLINK_REST_PORT)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KS="$ROOT/scripts/kanstream"
FL="$ROOT/scripts/flink-local.sh"
KL="$ROOT/scripts/kafka-local.sh"
export KANSTREAM_HOME="${KANSTREAM_HOME:-$ROOT/.kanstream}"

log() { echo "$SCRIPT: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
say() { echo "$SCRIPT $(date +%H:%M:%S): $*" >&2; }
now_ms() { date +%s%3N; }
# With set -e a failing command would otherwise end the script without a word; say where.
on_err() { echo "$SCRIPT: ERROR: command failed (exit $1) at line $2: $3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------------------------
# A classpath Maven resolves once; the cache is reused until a pom changes or a jar is gone.
# ---------------------------------------------------------------------------------------------

# classpath_cached FILE POM...: whether FILE holds a classpath newer than each POM and the parent
# pom (where the versions are) whose jars all exist (a cleaned ~/.m2 resolves again)
classpath_cached() {
  local file="$1" pom jar jars=()
  shift
  [[ -s "$file" ]] || return 1
  for pom in "$@" "$ROOT/pom.xml"; do
    [[ "$pom" -nt "$file" ]] && return 1
  done
  IFS=: read -r -a jars < "$file" || true   # no trailing newline -> read returns 1
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || return 1; done
}

# resolve_classpath POM OUT: POM's runtime classpath into OUT. Maven's output is kept out of the
# caller's (Debian's mvn emits ANSI resets even with -q -B) and shown only on failure; OUT is
# written whole or not at all, so an interrupted resolve never leaves a truncated classpath.
resolve_classpath() {
  local pom="$1" out="$2" tmp="$2.tmp.$$" mvn_log="$2.mvn.$$"
  command -v mvn > /dev/null || die "mvn not on PATH (needed once to resolve $pom)"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:build-classpath \
      -Dmdep.outputFile="$tmp" > "$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    rm -f "$tmp" "$mvn_log"
    die "Maven could not resolve $pom"
  fi
  rm -f "$mvn_log"
  [[ -s "$tmp" ]] || { rm -f "$tmp"; die "Maven wrote an empty classpath for $pom"; }
  mv -f "$tmp" "$out"
}

# ---------------------------------------------------------------------------------------------
# Processes: every JVM a script starts carries markers (-Dkanstream.<what>=...) on its command
# line, so a pid is only ever taken for ours: pids are reused, and other JVMs run beside ours.
# ---------------------------------------------------------------------------------------------

# runs_with PID WORD...: whether process PID runs with every WORD on its command line
runs_with() {
  local pid="$1" cmd word
  shift
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  cmd=" $(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null || true)"
  for word in "$@"; do [[ "$cmd" == *" $word "* ]] || return 1; done
}

# find_pid PIDFILE WORD...: prints the pid of the process that runs with every WORD: the one in
# PIDFILE while it still does, else one found by the first WORD (PIDFILE is rewritten); returns 1
# when none runs, and removes a stale PIDFILE
find_pid() {
  local file="$1" pid p
  shift
  if [[ -f "$file" ]]; then
    pid="$(cat "$file" 2> /dev/null || true)"
    if runs_with "$pid" "$@"; then echo "$pid"; return 0; fi
    rm -f "$file"
  fi
  for p in $(pgrep -f -- "$1 " 2> /dev/null || true); do
    if runs_with "$p" "$@"; then echo "$p" > "$file"; echo "$p"; return 0; fi
  done
  return 1
}

# stop_pid PID SIGNAL SECONDS: sends SIGNAL, waits up to SECONDS for the process to end, then
# sends SIGKILL and waits for that
stop_pid() {
  local pid="$1" signal="$2" deadline=$((SECONDS + $3))
  kill "-$signal" "$pid" 2> /dev/null || true
  while kill -0 "$pid" 2> /dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2> /dev/null; then
    log "pid $pid still alive after ${3}s, sending SIGKILL"
    kill -KILL "$pid" 2> /dev/null || true
    while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done
  fi
}

# take_lock DIR SECONDS: holds an flock on DIR/.lock on fd 9 until the script exits, so that two
# callers (parallel test JVMs, say) never start or stop the same thing at once. Whatever the
# script starts in the background gets 9>&-, or it would hold the lock for ever.
take_lock() {
  mkdir -p "$1"
  exec 9> "$1/.lock"
  flock -w "$2" 9 || die "another $SCRIPT holds $1/.lock for ${2}s"
}

# bash's /dev/tcp: no nc or curl needed. A subshell, so the descriptor is closed at once.
port_open() { (exec 3<> "/dev/tcp/localhost/$1") 2> /dev/null; }

# ---------------------------------------------------------------------------------------------
# chaos.sh and soak.sh: a run of the job against the local broker and cluster
# ---------------------------------------------------------------------------------------------

# start_run: the broker's address (KAFKA_PORT) and the cluster's (FLINK_REST_PORT, default 8081),
# and on exit the cleanup below
start_run() {
  BS="localhost:$KAFKA_PORT"
  TARGET="localhost:${FLINK_REST_PORT:-8081}"
  started_kafka=false
  started_flink=false
  producer_pid=""
  JOB=""
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

# Builds the command line now if it needs it, then never again in this run: a source file saved
# while a long run goes on must not stall it with a rebuild.
build_once() {
  "$KS" --version > /dev/null
  export KANSTREAM_BUILD=never
}

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
