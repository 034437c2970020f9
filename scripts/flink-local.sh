#!/usr/bin/env bash
# flink-local.sh — a standalone Flink 2.2 session cluster on this machine: one JobManager and N
# TaskManagers, each its own JVM, started from Maven-resolved jars (no Flink distribution, no
# Docker). DJL and PyTorch's CPU natives are on the cluster classpath, loaded parent-first, as a
# user puts them in a distribution's lib/ (docs/running.md, "On a Flink 2.2 cluster").
#
# Classpath: scripts/flink/pom.xml (Flink runtime, web UI, file connector, RocksDB, log4j) joined
# with docker/flink/lib/pom.xml (DJL, the same list the Docker image puts in lib/); resolved by
# Maven once and cached. JVM memory flags come from Flink's own BashJavaUtils, the arithmetic its
# jobmanager.sh / taskmanager.sh use.
#
# Everything lives under one state dir (default <repo>/.kanstream/flink):
#   classpath.txt           cached cluster classpath (re-resolved when a pom changes)
#   conf/config.yaml        generated on every start; conf/log4j.properties
#   log/jobmanager.log      log/taskmanager-N.log (appended across restarts), *.out (stdout/err)
#   jobmanager.pid          taskmanager-N.pid
#   tmp/ djl-cache/         io.tmp.dirs, DJL's cache (PyTorch unpacked from the classified jar)
set -Eeuo pipefail
on_err() { echo "flink-local: ERROR: command failed (exit $1) at line $2: $3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

readonly JM_MAIN=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
readonly TM_MAIN=org.apache.flink.runtime.taskexecutor.TaskManagerRunner
readonly BASH_UTILS=org.apache.flink.runtime.util.bash.BashJavaUtils

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
FLINK_POM="$SCRIPT_DIR/flink/pom.xml"
DJL_POM="$REPO_ROOT/docker/flink/lib/pom.xml"

STATE_DIR="${KANSTREAM_HOME:-$REPO_ROOT/.kanstream}/flink"
CONF_DIR="$STATE_DIR/conf"
LOG_DIR="$STATE_DIR/log"
CP_FILE="$STATE_DIR/classpath.txt"

REST_PORT="${FLINK_REST_PORT:-8081}"
RPC_PORT="${FLINK_RPC_PORT:-6123}"
TASKMANAGERS="${FLINK_TASKMANAGERS:-2}"
SLOTS="${FLINK_SLOTS:-2}"
TM_PROCESS_SIZE="${FLINK_TM_PROCESS_SIZE:-1600m}"
# PyTorch's native memory is invisible to the JVM: Flink budgets it as task off-heap memory
TM_OFF_HEAP="${FLINK_TM_OFF_HEAP:-384m}"
START_TIMEOUT="${FLINK_START_TIMEOUT:-90}"
STOP_TIMEOUT="${FLINK_STOP_TIMEOUT:-30}"

usage() {
  cat <<EOF
Usage: $(basename "$0") COMMAND [OPTIONS]

A standalone Flink 2.2 session cluster from Maven jars: JobManager and TaskManagers as
separate JVMs, DJL on the cluster classpath (parent-first ai.djl.), web UI on localhost:$REST_PORT.

Commands:
  start [--taskmanagers N]     start the JobManager and N TaskManagers (default $TASKMANAGERS),
                               wait until the REST API lists them all (running: says so, exit 0)
  stop                         stop every TaskManager and the JobManager (SIGTERM, then SIGKILL
                               after ${STOP_TIMEOUT}s); nothing of this cluster is left running
  status                       pids and the REST overview; exit 0 if the JobManager runs, 3 if not
  taskmanager start N          start TaskManager number N and wait until it is registered
  taskmanager kill N           SIGKILL TaskManager N (a crash, for chaos testing)
  taskmanager stop N           SIGTERM TaskManager N
  taskmanager pids             "N pid" for each running TaskManager
  logs                         print the log directory
  classpath                    print the cached cluster classpath

Environment:
  KANSTREAM_HOME               state in \$KANSTREAM_HOME/flink (default <repo>/.kanstream/flink)
  FLINK_REST_PORT ($REST_PORT) FLINK_RPC_PORT ($RPC_PORT) FLINK_SLOTS per TaskManager ($SLOTS)
  FLINK_TM_PROCESS_SIZE ($TM_PROCESS_SIZE) FLINK_TM_OFF_HEAP ($TM_OFF_HEAP, PyTorch's memory)
  FLINK_START_TIMEOUT ($START_TIMEOUT s) FLINK_STOP_TIMEOUT ($STOP_TIMEOUT s)

State dir: $STATE_DIR
EOF
}

log() { echo "flink-local: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Classpath: Flink's jars and DJL's, resolved by Maven once and cached.
# ---------------------------------------------------------------------------------------------
resolve_pom() {
  local pom="$1" out="$2" log_file="$2.mvn"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:build-classpath \
      -Dmdep.outputFile="$out" > "$log_file" 2>&1; then
    cat "$log_file" >&2
    rm -f "$out" "$log_file"
    die "Maven could not resolve $pom"
  fi
  rm -f "$log_file"
  [[ -s "$out" ]] || die "Maven wrote an empty classpath for $pom"
}

ensure_classpath() {
  mkdir -p "$STATE_DIR"
  if [[ -s "$CP_FILE" && ! "$FLINK_POM" -nt "$CP_FILE" && ! "$DJL_POM" -nt "$CP_FILE" \
      && ! "$REPO_ROOT/pom.xml" -nt "$CP_FILE" ]]; then
    local jar ok=true jars=()
    IFS=: read -r -a jars < "$CP_FILE" || true
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { ok=false; break; }; done
    [[ "$ok" == true ]] && return 0
  fi
  command -v mvn > /dev/null || die "mvn not on PATH (needed once to resolve the Flink classpath)"
  log "resolving the Flink and DJL classpath with Maven (once)..."
  local flink="$CP_FILE.flink.$$" djl="$CP_FILE.djl.$$"
  resolve_pom "$FLINK_POM" "$flink"
  resolve_pom "$DJL_POM" "$djl"
  # one jar per artifact: both lists name commons-io, commons-compress, ... at the same version
  # (Maven writes no trailing newline: one echo between the lists keeps the last jar whole)
  { tr ':' '\n' < "$flink"; echo; tr ':' '\n' < "$djl"; echo; } | awk 'NF && !seen[$0]++' | paste -sd: - \
    > "$CP_FILE.tmp.$$"
  rm -f "$flink" "$djl"
  mv -f "$CP_FILE.tmp.$$" "$CP_FILE"
}

classpath() { cat "$CP_FILE"; }

# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$STATE_DIR/tmp" "$STATE_DIR/djl-cache" "$STATE_DIR/web"
  cat > "$CONF_DIR/config.yaml" <<EOF
# Generated by scripts/flink-local.sh on every start; edits are overwritten.
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: localhost
jobmanager.memory.process.size: 1024m
rest.address: localhost
rest.bind-address: localhost
rest.port: $REST_PORT
taskmanager.host: localhost
taskmanager.bind-host: localhost
taskmanager.numberOfTaskSlots: $SLOTS
taskmanager.memory.process.size: $TM_PROCESS_SIZE
taskmanager.memory.task.off-heap.size: $TM_OFF_HEAP
taskmanager.memory.managed.size: 128m
# spread a job's slots over the TaskManagers, as on a real cluster, instead of filling one first
taskmanager.load-balance.mode: slots
# DJL and PyTorch are on the cluster classpath: they must load parent-first, or a second job
# (a resubmission) fails with "already loaded in another classloader"
classloader.parent-first-patterns.additional: ai.djl.
# a killed TaskManager is noticed within seconds, not the default 50
heartbeat.interval: 2000
heartbeat.timeout: 15000
io.tmp.dirs: $STATE_DIR/tmp
web.tmpdir: $STATE_DIR/web
web.upload.dir: $STATE_DIR/web
web.cancel.enable: true
EOF
  cat > "$CONF_DIR/log4j.properties" <<'EOF'
monitorInterval = 0
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = RollingFile
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.filePattern = ${sys:log.file}.%i
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.main.policies.type = Policies
appender.main.policies.size.type = SizeBasedTriggeringPolicy
appender.main.policies.size.size = 100MB
appender.main.strategy.type = DefaultRolloverStrategy
appender.main.strategy.max = 5
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
EOF
}

# Flink's own memory arithmetic: line 1 JVM flags, line 2 dynamic -D settings.
resource_params() {
  local what="$1" out
  out="$(java -Xmx128m -cp "$(classpath)" "$BASH_UTILS" "$what" --configDir "$CONF_DIR" 2>&1)" \
    || { echo "$out" >&2; die "BashJavaUtils $what failed"; }
  grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<< "$out" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

# ---------------------------------------------------------------------------------------------
# Processes: every JVM carries a marker naming the state dir and its role, so a pid is only
# ever taken for ours (pids are reused; another engineer may run other JVMs).
# ---------------------------------------------------------------------------------------------
marker() { echo "-Dkanstream.flink.home=$STATE_DIR"; }
role_marker() { echo "-Dkanstream.flink.role=$1"; }

is_ours() {
  local pid="$1" role="$2" cmd
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null || true)"
  [[ "$cmd" == *"$(marker) "* && "$cmd" == *"$(role_marker "$role") "* ]]
}

# Prints the pid of a role (jobmanager, taskmanager-N) if it runs; returns 1 otherwise.
running_pid() {
  local role="$1" pid_file="$STATE_DIR/$1.pid" pid=""
  if [[ -f "$pid_file" ]]; then
    pid="$(cat "$pid_file" 2> /dev/null || true)"
    if is_ours "$pid" "$role"; then echo "$pid"; return 0; fi
    rm -f "$pid_file"
  fi
  local p
  for p in $(pgrep -f -- "$(role_marker "$role") " 2> /dev/null || true); do
    if is_ours "$p" "$role"; then echo "$p" > "$pid_file"; echo "$p"; return 0; fi
  done
  return 1
}

# Numbers of the TaskManagers that run, one per line.
running_taskmanagers() {
  local p cmd n
  for p in $(pgrep -f -- "$(marker) " 2> /dev/null || true); do
    cmd="$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null || true)"
    n="$(sed -n 's/.*-Dkanstream\.flink\.role=taskmanager-\([0-9]*\) .*/\1/p' <<< "$cmd")"
    if [[ -n "$n" ]] && is_ours "$p" "taskmanager-$n"; then echo "$n"; fi
  done | sort -n
}

rest() { curl -sf --max-time 5 "http://localhost:$REST_PORT$1"; }

# TaskManagers the JobManager lists (it forgets a killed one only after heartbeat.timeout).
registered_taskmanagers() {
  local overview
  overview="$(rest /overview 2> /dev/null)" || { echo 0; return; }
  sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p' <<< "$overview"
}

port_open() { (exec 3<> "/dev/tcp/localhost/$1") 2> /dev/null; }

launch() {
  local role="$1" main="$2" jvm="$3" dyn="$4"; shift 4
  local env_extra=("$@")
  # setsid: its own session, so a Ctrl-C aimed at the caller does not reach the cluster; only
  # stop/kill do. stdin/out detached so a caller reading our output never waits for the JVM.
  # shellcheck disable=SC2086  # jvm flags and dynamic settings are word lists
  env "${env_extra[@]}" setsid java $jvm \
    -XX:+ExitOnOutOfMemoryError \
    "$(marker)" "$(role_marker "$role")" \
    -Dlog.file="$LOG_DIR/$role.log" \
    -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" \
    -cp "$(classpath)" "$main" --configDir "$CONF_DIR" $dyn \
    < /dev/null >> "$LOG_DIR/$role.out" 2>&1 9>&- &
  echo $! > "$STATE_DIR/$role.pid"
  echo $!
}

take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9> "$STATE_DIR/.lock"
  flock -w $((START_TIMEOUT * 3)) 9 || die "another flink-local.sh holds $STATE_DIR/.lock"
}

start_jobmanager() {
  local pid
  if pid="$(running_pid jobmanager)"; then
    log "JobManager already running (pid $pid), web UI http://localhost:$REST_PORT"
    return 0
  fi
  for p in "$REST_PORT" "$RPC_PORT"; do
    port_open "$p" && die "port $p is already in use by another process"
  done
  local params jvm dyn
  params="$(resource_params GET_JM_RESOURCE_PARAMS)"
  jvm="$(sed -n 1p <<< "$params")"
  dyn="$(sed -n 2p <<< "$params")"
  pid="$(launch jobmanager "$JM_MAIN" "$jvm" "$dyn")"
  log "JobManager pid $pid, waiting for http://localhost:$REST_PORT"
  local deadline=$((SECONDS + START_TIMEOUT))
  until rest /overview > /dev/null 2>&1; do
    kill -0 "$pid" 2> /dev/null || { tail -n 30 "$LOG_DIR/jobmanager.log" "$LOG_DIR/jobmanager.out" >&2 || true; die "JobManager exited during startup"; }
    (( SECONDS < deadline )) || die "JobManager's REST API not up after ${START_TIMEOUT}s"
    sleep 0.5
  done
  log "JobManager ready: web UI http://localhost:$REST_PORT"
}

start_taskmanager() {
  local n="$1" pid
  [[ "$n" =~ ^[0-9]+$ ]] || die "TaskManager number must be a number, got '$n'"
  if pid="$(running_pid "taskmanager-$n")"; then
    log "TaskManager $n already running (pid $pid)"
    return 0
  fi
  running_pid jobmanager > /dev/null || die "no JobManager running: flink-local.sh start first"
  local before params jvm dyn
  before="$(registered_taskmanagers)"
  params="$(resource_params GET_TM_RESOURCE_PARAMS)"
  jvm="$(sed -n 1p <<< "$params")"
  dyn="$(sed -n 2p <<< "$params") -D taskmanager.resource-id=tm-$n"
  pid="$(launch "taskmanager-$n" "$TM_MAIN" \
    "$jvm -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1" \
    "$dyn" DJL_OFFLINE=true DJL_CACHE_DIR="$STATE_DIR/djl-cache" OMP_NUM_THREADS=1)"
  log "TaskManager $n pid $pid (resource id tm-$n), waiting until it is registered"
  local deadline=$((SECONDS + START_TIMEOUT))
  until rest /taskmanagers 2> /dev/null | grep -q "\"id\":\"tm-$n\""; do
    kill -0 "$pid" 2> /dev/null || { tail -n 30 "$LOG_DIR/taskmanager-$n.log" "$LOG_DIR/taskmanager-$n.out" >&2 || true; die "TaskManager $n exited during startup"; }
    (( SECONDS < deadline )) || die "TaskManager $n not registered after ${START_TIMEOUT}s (was $before)"
    sleep 0.5
  done
  log "TaskManager $n registered"
}

stop_role() {
  local role="$1" signal="${2:-TERM}" pid
  pid="$(running_pid "$role")" || { rm -f "$STATE_DIR/$role.pid"; return 0; }
  kill "-$signal" "$pid" 2> /dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2> /dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2> /dev/null; then
    log "$role (pid $pid) still alive after ${STOP_TIMEOUT}s, SIGKILL"
    kill -KILL "$pid" 2> /dev/null || true
    while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done
  fi
  rm -f "$STATE_DIR/$role.pid"
  log "$role (pid $pid) stopped with SIG$signal"
}

cmd_start() {
  local n="$1" i
  ensure_classpath
  if ! running_pid jobmanager > /dev/null; then write_config; fi
  start_jobmanager
  for ((i = 1; i <= n; i++)); do start_taskmanager "$i"; done
  log "cluster up: $(rest /overview)"
}

cmd_stop() {
  local n
  for n in $(running_taskmanagers); do stop_role "taskmanager-$n"; done
  stop_role jobmanager
  local left
  left="$(pgrep -f -- "$(marker) " || true)"
  [[ -z "$left" ]] || die "still running: $left"
  log "stopped"
}

cmd_status() {
  local pid n
  if ! pid="$(running_pid jobmanager)"; then
    echo "stopped state=$STATE_DIR"
    return 3
  fi
  echo "jobmanager pid=$pid web=http://localhost:$REST_PORT"
  for n in $(running_taskmanagers); do
    echo "taskmanager-$n pid=$(running_pid "taskmanager-$n")"
  done
  echo "overview $(rest /overview || echo unreachable)"
}

cmd_taskmanager() {
  local sub="${1:-}" n="${2:-}"
  case "$sub" in
    start) [[ -n "$n" ]] || die "usage: taskmanager start N"
           ensure_classpath; start_taskmanager "$n" ;;
    kill)  [[ -n "$n" ]] || die "usage: taskmanager kill N"
           running_pid "taskmanager-$n" > /dev/null || die "TaskManager $n is not running"
           stop_role "taskmanager-$n" KILL ;;
    stop)  [[ -n "$n" ]] || die "usage: taskmanager stop N"; stop_role "taskmanager-$n" ;;
    pids)  for n in $(running_taskmanagers); do echo "$n $(running_pid "taskmanager-$n")"; done ;;
    *) die "usage: taskmanager start|kill|stop N | taskmanager pids" ;;
  esac
}

main() {
  [[ $# -ge 1 ]] || { usage >&2; exit 2; }
  local cmd="$1"; shift
  case "$cmd" in
    -h|--help|help) usage; exit 0 ;;
    start)
      local n="$TASKMANAGERS"
      while [[ $# -gt 0 ]]; do
        case "$1" in
          --taskmanagers) [[ $# -ge 2 ]] || die "--taskmanagers needs a value"; n="$2"; shift 2 ;;
          --taskmanagers=*) n="${1#*=}"; shift ;;
          *) die "unexpected argument: $1" ;;
        esac
      done
      [[ "$n" =~ ^[0-9]+$ ]] || die "--taskmanagers must be a number, got '$n'"
      take_lock; cmd_start "$n" ;;
    stop) take_lock; cmd_stop ;;
    status) cmd_status || exit $? ;;
    taskmanager) take_lock; cmd_taskmanager "$@" ;;
    logs) echo "$LOG_DIR" ;;
    classpath) ensure_classpath; classpath; echo ;;
    *) log "unknown command: $cmd"; usage >&2; exit 2 ;;
  esac
}

main "$@"
