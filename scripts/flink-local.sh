#!/usr/bin/env bash
# flink-local.sh — a standalone Flink 2.2 session cluster on this machine: one JobManager and N
# TaskManagers, each its own JVM, started from Maven-resolved jars (no Flink distribution, no
# Docker). DJL and PyTorch's CPU natives are on the cluster classpath, loaded parent-first, as a
# user puts them in a distribution's lib/ (docs/running.md, "On a Flink 2.2 cluster"). `submit`
# runs the job jar (jobs/target/kanstream-job.jar) on it as `flink run -d` does. The REST API's
# answers are read by the command line (scripts/kanstream chaos job taskmanagers), not scraped.
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
SCRIPT=flink-local
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

readonly JM_MAIN=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
readonly TM_MAIN=org.apache.flink.runtime.taskexecutor.TaskManagerRunner
readonly BASH_UTILS=org.apache.flink.runtime.util.bash.BashJavaUtils

FLINK_POM="$ROOT/scripts/flink/pom.xml"
DJL_POM="$ROOT/docker/flink/lib/pom.xml"
# what `submit` runs: the job jar, whose main is the job
JOB_JAR="${KANSTREAM_JOB_JAR:-$ROOT/jobs/target/kanstream-job.jar}"

STATE_DIR="$KANSTREAM_HOME/flink"
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
# Flink's Prometheus reporter: each JVM (JobManager first, then the TaskManagers) takes the next
# free port of this range and serves /metrics on it; empty switches the reporter off
PROMETHEUS_PORTS="${FLINK_PROMETHEUS_PORTS-9249-9259}"
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
  submit [RUN-OPTIONS...]      flink run -d the job jar (its main is the job) on this cluster,
                               with the options of "kanstream run" (scripts/kanstream run
                               --help); the topics must exist
  metrics                      "role url" of each JVM's Prometheus endpoint (from its log)
  logs                         print the log directory
  classpath                    print the cached cluster classpath

Environment:
  KANSTREAM_HOME               state in \$KANSTREAM_HOME/flink (default <repo>/.kanstream/flink)
  KANSTREAM_JOB_JAR            the jar "submit" runs (default jobs/target/kanstream-job.jar)
  FLINK_REST_PORT ($REST_PORT) FLINK_RPC_PORT ($RPC_PORT) FLINK_SLOTS per TaskManager ($SLOTS)
  FLINK_TM_PROCESS_SIZE ($TM_PROCESS_SIZE) FLINK_TM_OFF_HEAP ($TM_OFF_HEAP, PyTorch's memory)
  FLINK_PROMETHEUS_PORTS (${PROMETHEUS_PORTS:-off}) ports of the Prometheus reporter, one per JVM;
                               empty: no reporter
  FLINK_START_TIMEOUT ($START_TIMEOUT s) FLINK_STOP_TIMEOUT ($STOP_TIMEOUT s)

State dir: $STATE_DIR
EOF
}

# ---------------------------------------------------------------------------------------------
# Classpath: Flink's jars and DJL's, resolved by Maven once and cached.
# ---------------------------------------------------------------------------------------------
ensure_classpath() {
  mkdir -p "$STATE_DIR"
  classpath_cached "$CP_FILE" "$FLINK_POM" "$DJL_POM" && return 0
  log "resolving the Flink and DJL classpath with Maven (once)..."
  local flink="$CP_FILE.flink.$$" djl="$CP_FILE.djl.$$"
  resolve_classpath "$FLINK_POM" "$flink"
  resolve_classpath "$DJL_POM" "$djl"
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
  if [[ -n "$PROMETHEUS_PORTS" ]]; then
    [[ "$PROMETHEUS_PORTS" =~ ^[0-9]+(-[0-9]+)?$ ]] \
      || die "FLINK_PROMETHEUS_PORTS must be a port or a range like 9249-9259, got '$PROMETHEUS_PORTS'"
    cat >> "$CONF_DIR/config.yaml" <<EOF
# Flink's Prometheus reporter: GET http://localhost:PORT/metrics on each JVM (flink-local.sh metrics)
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
metrics.reporter.prom.port: $PROMETHEUS_PORTS
EOF
  fi
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

# Prints the pid of a role (jobmanager, taskmanager-N) if it runs; returns 1 otherwise.
running_pid() { find_pid "$STATE_DIR/$1.pid" "$(role_marker "$1")" "$(marker)"; }

# Numbers of the TaskManagers that run, one per line.
running_taskmanagers() {
  local p cmd n
  for p in $(pgrep -f -- "$(marker) " 2> /dev/null || true); do
    cmd="$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null || true)"
    n="$(sed -n 's/.*-Dkanstream\.flink\.role=taskmanager-\([0-9]*\) .*/\1/p' <<< "$cmd")"
    if [[ -n "$n" ]] && runs_with "$p" "$(marker)" "$(role_marker "taskmanager-$n")"; then
      echo "$n"
    fi
  done | sort -n
}

rest() { curl -sf --max-time 5 "http://localhost:$REST_PORT$1"; }

# The resource ids of the TaskManagers the JobManager lists, one a line, read from its REST API by
# the command line (it forgets a killed one only after heartbeat.timeout).
registered_taskmanagers() {
  "$KS" chaos job taskmanagers --target "localhost:$REST_PORT" 2> /dev/null || true
}

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

lock() { take_lock "$STATE_DIR" $((START_TIMEOUT * 3)); }

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
  before="$(registered_taskmanagers | wc -l)"
  params="$(resource_params GET_TM_RESOURCE_PARAMS)"
  jvm="$(sed -n 1p <<< "$params")"
  dyn="$(sed -n 2p <<< "$params") -D taskmanager.resource-id=tm-$n"
  pid="$(launch "taskmanager-$n" "$TM_MAIN" \
    "$jvm -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1" \
    "$dyn" DJL_OFFLINE=true DJL_CACHE_DIR="$STATE_DIR/djl-cache" OMP_NUM_THREADS=1)"
  log "TaskManager $n pid $pid (resource id tm-$n), waiting until it is registered"
  local deadline=$((SECONDS + START_TIMEOUT))
  until registered_taskmanagers | grep -qx "tm-$n"; do
    kill -0 "$pid" 2> /dev/null || { tail -n 30 "$LOG_DIR/taskmanager-$n.log" "$LOG_DIR/taskmanager-$n.out" >&2 || true; die "TaskManager $n exited during startup"; }
    (( SECONDS < deadline )) || die "TaskManager $n not registered after ${START_TIMEOUT}s ($before were)"
    sleep 1
  done
  log "TaskManager $n registered"
}

stop_role() {
  local role="$1" signal="${2:-TERM}" pid
  pid="$(running_pid "$role")" || { rm -f "$STATE_DIR/$role.pid"; return 0; }
  stop_pid "$pid" "$signal" "$STOP_TIMEOUT"
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

# The port each running JVM's Prometheus reporter bound, as its log says (the newest start).
cmd_metrics() {
  local role port n roles=()
  running_pid jobmanager > /dev/null && roles+=(jobmanager)
  for n in $(running_taskmanagers); do roles+=("taskmanager-$n"); done
  [[ ${#roles[@]} -gt 0 ]] || die "no JobManager or TaskManager running"
  for role in "${roles[@]}"; do
    port="$(sed -n 's/.*Started PrometheusReporter HTTP server on port \([0-9]*\).*/\1/p' \
      "$LOG_DIR/$role.log" 2> /dev/null | tail -n 1)"
    if [[ -n "$port" ]]; then
      echo "$role http://localhost:$port/metrics"
    else
      echo "$role no-prometheus-reporter-in-its-log"
    fi
  done
}

# The job jar as a cluster runs it: Flink's own client (bin/flink's CliFrontend) submits it,
# detached, with `kanstream run`'s options. Topics must exist (under a cluster the job does not
# create them); the client's log goes to log/client.log.
cmd_submit() {
  [[ -f "$JOB_JAR" ]] || die "no job jar at $JOB_JAR: build it with mvn -DskipTests package"
  running_pid jobmanager > /dev/null || die "no JobManager running: flink-local.sh start first"
  ensure_classpath
  FLINK_CONF_DIR="$CONF_DIR" java --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/java.util=ALL-UNNAMED \
    -Dlog.file="$LOG_DIR/client.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" \
    -cp "$(classpath)" org.apache.flink.client.cli.CliFrontend run -d "$JOB_JAR" "$@"
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
      lock; cmd_start "$n" ;;
    stop) lock; cmd_stop ;;
    status) cmd_status || exit $? ;;
    taskmanager) lock; cmd_taskmanager "$@" ;;
    submit) cmd_submit "$@" ;;
    metrics) cmd_metrics ;;
    logs) echo "$LOG_DIR" ;;
    classpath) ensure_classpath; classpath; echo ;;
    *) log "unknown command: $cmd"; usage >&2; exit 2 ;;
  esac
}

main "$@"
