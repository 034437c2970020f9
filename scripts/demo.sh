#!/usr/bin/env bash
# demo.sh — kanstream end to end on this machine, in one command: a real Kafka broker, the
# online-learning job on an embedded Flink cluster (web UI on :8081), a labeled stream whose
# concept changes abruptly halfway, live progress read back from the metrics topic, and at the
# end a report, a summary, and nothing left running.
#
# Everything it starts is tracked and stopped: by process group (each background process runs
# in its own session), and by a marker on every JVM's command line (-Dkanstream.demo=<id>), so a
# demo killed with SIGKILL is cleaned up by the next one. State lives in one dir (default
# <repo>/.kanstream/demo); reports go to <repo>/reports/demo-<timestamp>/.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration_arg=120s
rate=200
keys=4
task=regression

usage() {
  cat <<EOF
Usage: scripts/demo.sh [--duration 120s] [--rate 200] [--keys 4] [--task regression|binary]

Runs kanstream end to end on this machine and shows it learning:
  1. builds the project if needed (first run: mvn package, about a minute with a warm ~/.m2)
  2. starts a local Kafka broker (KRaft, its own JVM) on port 9092, or the next free pair
  3. creates the topics events, labels, scores, metrics, dead-letters
  4. starts the online-learning job on an embedded Flink cluster, web UI http://localhost:8081
  5. streams labeled events for --duration at --rate, over --keys model keys; halfway through
     the concept changes abruptly (a drift)
  6. shows live progress from the metrics topic (read_committed): events/s, per-key rolling
     metric (rmse for regression, accuracy for binary) against the no-change baseline, steps,
     drift and grid-refit events
  7. at the end, or on Ctrl-C: stops the stream and the job, writes a report to
     reports/demo-<timestamp>/ (the stream replayed through the same operator: report.html,
     summary.json, metrics.csv, charts; plus the live metric records and the job's log),
     prints a summary (first vs last rolling metric per key), and stops every process it
     started

Options:
  --duration D   how long events are streamed: 60, 60s, 2m (default $duration_arg); the
                 whole demo takes about a minute and a half more (start-up, report)
  --rate N       events per second sent (default $rate)
  --keys N       model keys, one KAN each (default $keys)
  --task T       regression|binary (default $task)
  -h, --help     this help

Environment:
  KANSTREAM_DEMO_HOME  state dir (default <repo>/.kanstream/demo): broker data, checkpoints, logs
  DJL_CACHE_DIR        where PyTorch's native library is unpacked (default <repo>/.kanstream/djl-cache)
EOF
}

# printf's own clock, not $(date): say runs in signal handlers, which should start no process.
say() { printf '%(%H:%M:%S)T demo: %s\n' -1 "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

seconds_of() {
  local v="$1"
  case "$v" in
    *ms) die "--duration $v: give seconds or minutes, e.g. 60s or 2m" ;;
    *s) v="${v%s}" ;;
    *m) [[ "${v%m}" =~ ^[0-9]+$ ]] && v=$(( ${v%m} * 60 )) ;;
  esac
  [[ "$v" =~ ^[0-9]+$ && "$v" -gt 0 ]] || die "--duration $1: expected e.g. 60, 60s or 2m"
  echo "$v"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --duration|--rate|--keys|--task)
      [[ $# -ge 2 ]] || die "$1 needs a value (see --help)"
      case "$1" in
        --duration) duration_arg="$2" ;;
        --rate) rate="$2" ;;
        --keys) keys="$2" ;;
        --task) task="$2" ;;
      esac
      shift 2 ;;
    --duration=*) duration_arg="${1#*=}"; shift ;;
    --rate=*) rate="${1#*=}"; shift ;;
    --keys=*) keys="${1#*=}"; shift ;;
    --task=*) task="${1#*=}"; shift ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
duration="$(seconds_of "$duration_arg")"
[[ "$rate" =~ ^[0-9]+$ && "$rate" -gt 0 ]] || die "--rate $rate: expected a whole number of events per second > 0"
[[ "$keys" =~ ^[0-9]+$ && "$keys" -gt 0 ]] || die "--keys $keys: expected a whole number > 0"
[[ "$task" == regression || "$task" == binary ]] || die "--task $task: expected regression or binary"
count=$(( rate * duration ))
command -v java >/dev/null || die "java not on PATH: install JDK 17"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[[ "${java_major%%.*}" -ge 17 ]] 2>/dev/null || die "JDK 17 or newer needed, found java $java_major"

demo_home="${KANSTREAM_DEMO_HOME:-$root/.kanstream/demo}"
mkdir -p "$demo_home"
demo_home="$(cd "$demo_home" && pwd)"
run_dir="$demo_home/run"
export KANSTREAM_HOME="$demo_home"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$root/.kanstream/djl-cache}"
# Every JVM the demo starts carries this marker: how cleanup (and the next demo, after a
# SIGKILL) finds them, and nothing else.
demo_id="$(printf '%s' "$demo_home" | cksum | cut -d' ' -f1)"
marker="-Dkanstream.demo=$demo_id"
monitor=()   # set once the build is ready
export KANSTREAM_JAVA_OPTS="$marker ${KANSTREAM_JAVA_OPTS:-}"
classpath_file="$root/jobs/target/runtime-classpath.txt"
quiet_log4j="$root/jobs/src/main/resources/log4j2-cli.properties"

# One demo per state dir. fd 8 holds the lock; every process started below gets 8>&- so an
# orphan can never keep it.
exec 8> "$demo_home/.lock"
flock -n 8 || die "another scripts/demo.sh is running with state dir $demo_home"

phase=setup          # setup -> streaming -> finishing -> done
stop_requested=""    # the signal that asked the streaming phase to end early
skip_report=false
job_pid="" producer_pid="" monitor_pid="" broker_started=false
report_dir=""

# Runs "$@" in the background in a session (and process group) of its own, so that Ctrl-C in
# the terminal reaches only this script, which then stops everything in order.
start_bg() {
  local log="$1"; shift
  if [[ "$log" == - ]]; then
    setsid "$@" < /dev/null 8>&- &
  else
    setsid "$@" < /dev/null > "$log" 2>&1 8>&- &
  fi
  bg_pid=$!
}

# A Ctrl-C kills a foreground sleep; that must not end the script (set -e).
nap() { sleep "$1" || true; }

# SIGTERM to the process group, SIGKILL after $3 seconds; idempotent.
stop_group() {
  local name="$1" pid="$2" grace="${3:-20}"
  [[ -n "$pid" ]] || return 0
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 -- "-$pid" 2>/dev/null && (( SECONDS < deadline )); do nap 0.2; done
    if kill -0 -- "-$pid" 2>/dev/null; then
      say "$name did not stop within ${grace}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

ours() { pgrep -f -- "$marker( |\$)" 2>/dev/null || true; }

broker_running() { "$root/scripts/kafka-local.sh" status > /dev/null 2>&1 8>&-; }

# Stops whatever is still running, in order: producer, monitor, job, then the broker.
cleanup() {
  local status=$?
  stop_group producer "$producer_pid" 10; producer_pid=""
  stop_group monitor "$monitor_pid" 10; monitor_pid=""
  stop_group job "$job_pid" 30; job_pid=""
  local pid
  for pid in $(ours); do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ "$broker_started" == true ]] || broker_running; then
    "$root/scripts/kafka-local.sh" stop > "$run_dir/broker-stop.log" 2>&1 8>&- \
      || cat "$run_dir/broker-stop.log" >&2
    broker_started=false
  fi
  return "$status"
}

# Signal handlers only take note (work done inside a handler, with more signals arriving,
# is how shells get stuck); the streaming loop and finish() act on the note.
on_signal() {
  local sig="$1"
  case "$phase" in
    streaming)
      [[ -n "$stop_requested" ]] || stop_requested="$sig" ;;
    finishing)
      if [[ "$skip_report" == false ]]; then
        skip_report=true
        echo
        say "$sig again: skipping the rest of the report, stopping everything"
      fi ;;
    done) ;;
    *)
      echo
      say "$sig during start-up: stopping what was started"
      case "$sig" in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac ;;   # EXIT trap cleans up
  esac
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
# On the way out, whatever the reason, nothing stays behind (signals no longer interrupt that).
trap 'trap "" INT TERM HUP; cleanup' EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------------------------------
# The end: stop the stream and the job, write the report, print the summary, check.
# ------------------------------------------------------------------------------------------
finish() {
  local why="$1" ended=""
  case "$why" in
    done) ;;
    INT) ended="stopped early with Ctrl-C" ;;
    TERM|HUP) ended="stopped early by SIG$why" ;;
    *) ended="stopped by $why" ;;
  esac
  phase=finishing
  stop_group producer "$producer_pid" 10; producer_pid=""
  if [[ "$why" == done ]]; then
    drain
  fi
  stop_group monitor "$monitor_pid" 10; monitor_pid=""
  stop_group job "$job_pid" 30; job_pid=""

  report_dir="$root/reports/demo-$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$report_dir"
  cp "$run_dir/job.log" "$report_dir/job.log" 2>/dev/null || true
  cp "$run_dir/producer.log" "$report_dir/producer.log" 2>/dev/null || true
  cp "$run_dir/metrics.jsonl" "$report_dir/live-metrics.jsonl" 2>/dev/null || true
  local stream="$report_dir/stream.csv" have_stream=false
  if [[ "$skip_report" == false ]]; then
    say "saving the stream that was sent (the events topic) to $stream"
    if "${monitor[@]}" dump \
        --bootstrap-servers "localhost:$port" --topic events --out "$stream" \
        > "$run_dir/dump.log" 2>&1 8>&-; then
      have_stream=true
    else
      say "could not read the events topic back (see $run_dir/dump.log)"
    fi
  fi
  cleanup || true   # the broker is no longer needed

  echo
  echo "==================================== summary ===================================="
  local sent
  sent="$(sed -n 's/^sent \([0-9]*\) events.*/\1/p' "$run_dir/producer.log" 2>/dev/null | tail -1)"
  [[ -n "$sent" ]] || sent="$(( $(wc -l < "$stream" 2>/dev/null || echo 1) - 1 ))"
  (( sent >= 0 )) 2>/dev/null || sent=0
  echo "Stream: $sent events sent ($task, $keys keys, $rate/s; the concept changed at event" \
    "$(( count / 2 )) of $count planned)${ended:+; $ended}."
  local learned=0
  "${monitor[@]}" summary \
      --metrics "$run_dir/metrics.jsonl" 8>&- | tee "$report_dir/live-summary.txt" || learned=$?

  if [[ "$have_stream" == true && "$skip_report" == false && "$sent" -gt 0 ]]; then
    echo
    say "replaying the same stream through the same operator into the report (about" \
      "$(( sent / 400 + 10 ))s)..."
    if "$root/scripts/kanstream" replay --input "$stream" --key-column key \
        --exclude-columns id,ts --task "$task" --hidden 8 --lr 0.01 \
        --grid-size 5 --seed 42 --report "$report_dir" > "$run_dir/replay.log" 2>&1 8>&-; then
      cp "$run_dir/replay.log" "$report_dir/replay.log"
      echo "Replay of the whole stream, prequential (each event scored before it is learned from):"
      sed -n '/^model /,/ drifts$/p' "$run_dir/replay.log" | sed 's/^/  /'
      echo "  (no_change: predict the key's previous label; majority: the majority label or the mean;"
      echo "   linear: an online linear model; frozen: a KAN trained on the first events, then frozen)"
    elif [[ "$skip_report" == true ]]; then
      say "replay interrupted; the live records are in the report folder"
    else
      say "the replay failed (see $run_dir/replay.log); the live records are in the report folder"
      tail -5 "$run_dir/replay.log" >&2 || true
    fi
  fi
  echo
  echo "Report: $report_dir/"
  [[ -f "$report_dir/report.html" ]] && echo "  report.html           charts and per-key figures of the replay (open in a browser)"
  [[ -f "$report_dir/summary.json" ]] && echo "  summary.json, metrics.csv, learning-curve*.png   the replay's figures"
  echo "  live-metrics.jsonl    every metric record the job committed during the demo"
  echo "  live-summary.txt      the per-key table above"
  [[ -f "$stream" ]] && echo "  stream.csv            the events that were sent, in order"
  echo "  job.log               the job's output"

  local left
  left="$(ours)"
  if [[ -n "$left" ]] || broker_running; then
    say "WARNING: still running after cleanup: ${left:-the broker} (state $demo_home)"
    return 1
  fi
  echo "Stopped everything it started: broker, job, producer and monitor (no process with" \
    "$marker left; broker stopped)."
  phase=done
  return "$learned"
}

# Waits until the job has taken every event sent and a checkpoint committed its output.
drain() {
  local deadline=$((SECONDS + 60)) seen=""
  while (( SECONDS < deadline )) && [[ "$skip_report" == false ]]; do
    seen="$(sed -n 's/.* events \([0-9]*\) (.*/\1/p' "$run_dir/job.log" | tail -1)"
    [[ -n "$seen" && "$seen" -ge "$sent_target" ]] && break
    kill -0 "$job_pid" 2>/dev/null || break
    nap 1
  done
  if [[ -n "$seen" && "$seen" -ge "$sent_target" ]]; then
    say "the job has taken all $seen events; waiting for the checkpoint that commits the last results"
  else
    say "stopping with the job at ${seen:-0} of $sent_target events (it fell behind)"
  fi
  [[ "$skip_report" == true ]] || nap 6   # two checkpoint intervals: the last metric records
                                          # become visible to read_committed consumers
}

# ------------------------------------------------------------------------------------------
# Start-up
# ------------------------------------------------------------------------------------------
t_start=$SECONDS
rm -rf "$run_dir"
mkdir -p "$run_dir"

leftovers="$(ours)"
if [[ -n "$leftovers" ]]; then
  say "stopping processes left by an earlier demo that was killed: $(echo $leftovers)"
  for pid in $leftovers; do kill -KILL "$pid" 2>/dev/null || true; done
fi
if broker_running; then
  "$root/scripts/kafka-local.sh" stop > /dev/null 2>&1 8>&- || true
fi

say "checking the build (scripts/kanstream builds on first use, ~1 min with a warm ~/.m2)..."
t0=$SECONDS
if ! "$root/scripts/kanstream" --version > "$run_dir/build.log" 2>&1 8>&-; then
  tail -30 "$run_dir/build.log" >&2
  die "the build failed (full log: $run_dir/build.log)"
fi
# the live view, the stream's dump and the summary: `kanstream demo`, run straight from the build
monitor=(java "$marker" -Dlog4j2.configurationFile="$quiet_log4j"
  -cp "$root/jobs/target/classes:$(cat "$classpath_file")" io.kanstream.jobs.cli.KanstreamCli demo)
say "build ready ($((SECONDS - t0))s)"

port=9092
while port_in_use "$port" || port_in_use "$((port + 1))"; do
  port=$((port + 2))
  (( port < 9200 )) || die "no two free neighbouring ports between 9092 and 9200 for Kafka"
done
say "starting a Kafka broker on localhost:$port (KRaft, state in $demo_home/kafka)..."
t0=$SECONDS
broker_started=true
if ! "$root/scripts/kafka-local.sh" start --port "$port" --clean > "$run_dir/broker.log" 2>&1 8>&-; then
  cat "$run_dir/broker.log" >&2
  die "the broker did not start"
fi
say "broker ready ($((SECONDS - t0))s); creating topics..."
topic_pids=()
for topic in events labels scores metrics dead-letters; do   # one short JVM each, side by side
  "$root/scripts/kafka-local.sh" topics create "$topic" 4 > "$run_dir/topic-$topic.log" 2>&1 8>&- &
  topic_pids+=("$!")
done
for i in "${!topic_pids[@]}"; do
  if ! wait "${topic_pids[$i]}"; then
    cat "$run_dir"/topic-*.log >&2
    die "could not create the topics"
  fi
done

web_ui=(--web-ui)
ui_note="Flink web UI: http://localhost:8081"
if port_in_use 8081; then
  web_ui=()
  ui_note="port 8081 is taken by another process: running without Flink's web UI"
fi
say "starting the online-learning job (embedded Flink, task $task, layers 4,8,1)..."
t0=$SECONDS
start_bg "$run_dir/job.log" "$root/scripts/kanstream" run \
  --bootstrap-servers "localhost:$port" --task "$task" \
  --checkpoint-dir "$run_dir/checkpoints" --fresh --progress-every 5s ${web_ui[@]+"${web_ui[@]}"}
job_pid=$bg_pid
until grep -q "running on an embedded Flink cluster" "$run_dir/job.log" 2>/dev/null; do
  if ! kill -0 "$job_pid" 2>/dev/null; then
    tail -30 "$run_dir/job.log" >&2
    die "the job exited during start-up (log: $run_dir/job.log)"
  fi
  (( SECONDS - t0 < 180 )) || { tail -30 "$run_dir/job.log" >&2; die "the job did not start in 180 s"; }
  nap 0.5
done
say "job running ($((SECONDS - t0))s). $ui_note"

phase=streaming
touch "$run_dir/metrics.jsonl"
start_bg - "${monitor[@]}" watch \
  --bootstrap-servers "localhost:$port" --topic metrics --save "$run_dir/metrics.jsonl" \
  --job-log "$run_dir/job.log" --every 5 --expected "$count"
monitor_pid=$bg_pid

sent_target=$count
say "streaming $count labeled events at $rate/s for ${duration}s over $keys keys; the concept" \
  "changes at event $((count / 2)). Ctrl-C stops early (and still writes the report)."
say "attach your own consumer: bootstrap localhost:$port, topics scores and metrics" \
  "(isolation.level=read_committed)"
start_bg "$run_dir/producer.log" "$root/scripts/kanstream" produce --synthetic drift \
  --bootstrap-servers "localhost:$port" --rate "$rate" --count "$count" --keys "$keys" --task "$task"
producer_pid=$bg_pid

# Stream until the producer is done (it paces itself to --rate), while watching the job.
stream_deadline=$((SECONDS + duration + 60))
while [[ -z "$stop_requested" ]] && kill -0 "$producer_pid" 2>/dev/null; do
  if ! kill -0 "$job_pid" 2>/dev/null; then
    tail -30 "$run_dir/job.log" >&2
    say "ERROR: the job stopped while streaming (log: $run_dir/job.log)"
    finish "the job failing" || true
    exit 1
  fi
  if (( SECONDS > stream_deadline )); then
    say "the producer is still sending ${duration}s + 60s after it started: stopping it"
    break
  fi
  nap 1
done
if [[ -n "$stop_requested" ]]; then
  echo
  say "$stop_requested: stopping the stream; writing the report of what happened so far" \
    "(Ctrl-C again skips the report)"
  finish "$stop_requested" || true
  case "$stop_requested" in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
fi
producer_status=0
wait "$producer_pid" 2>/dev/null || producer_status=$?
if [[ "$producer_status" -ne 0 ]] && ! grep -q '^sent ' "$run_dir/producer.log"; then
  tail -20 "$run_dir/producer.log" >&2
  say "ERROR: the producer failed (log: $run_dir/producer.log)"
  finish "the producer failing" || true
  exit 1
fi
producer_pid=""
say "$(tail -1 "$run_dir/producer.log")"

status=0
finish done || status=$?
say "done in $((SECONDS - t_start))s"
exit "$status"
