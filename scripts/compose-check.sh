#!/usr/bin/env bash
# compose-check.sh — runs docker-compose.yml for real on a machine without an image registry:
# builds stand-in images (docker/offline/) from a Debian base and the Maven jars, brings the
# whole topology up (broker, topics, JobManager, TaskManager, job submission, generator, monitor,
# Prometheus), checks that every generated event was scored exactly once, that every key's model
# learned (steps on the metrics topic) and that Prometheus scraped the learner's metrics, and
# takes everything down again, leaving no container, network or volume of its project behind
# (also on failure or Ctrl-C). Images stay: a second run reuses the base image and Docker's
# layer cache.
#
# Needs: a running Docker engine, docker-compose, Maven, a JDK (javac), and for the first run
# debootstrap and a Debian mirror (the base image). Exit 0 when every check passed.
set -Eeuo pipefail
on_err() { echo "compose-check: ERROR: command failed (exit $1) at line $2: $3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
OFFLINE="$REPO_ROOT/docker/offline"
STAGE="${COMPOSE_CHECK_STAGE:-$REPO_ROOT/target/compose-check}"
PROJECT="${COMPOSE_CHECK_PROJECT:-kanstream-check}"
EVENTS="${COMPOSE_CHECK_EVENTS:-2000}"
RATE="${COMPOSE_CHECK_RATE:-200}"
TIMEOUT="${COMPOSE_CHECK_TIMEOUT:-600}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

readonly BASE_IMAGE=kanstream-offline/debian-jre17:bookworm
readonly KAFKA_STANDIN=kanstream-offline/kafka:4.1.1
readonly FLINK_STANDIN=kanstream-offline/flink:2.2.0
readonly PROMETHEUS_STANDIN=kanstream-offline/prometheus:bookworm
readonly KANSTREAM_STANDIN=kanstream-offline/kanstream:2.2.0

usage() {
  cat <<EOF
Usage: $(basename "$0") [--events N] [--rate R] [--timeout S] [--rebuild]

Runs docker-compose.yml with stand-in images built here (docker/offline/README.md), checks scores,
learning and Prometheus, and takes it all down (docker-compose -p $PROJECT down -v).

  --events N     events the generator sends (default $EVENTS, 4 keys)
  --rate R       events per second (default $RATE)
  --timeout S    seconds for the events to be scored and learned from (default $TIMEOUT)
  --rebuild      make the Debian base image again (debootstrap)

Environment: COMPOSE_CHECK_STAGE (staging folder, default $STAGE), COMPOSE_CHECK_PROJECT
(compose project name, default $PROJECT), DEBIAN_MIRROR (for debootstrap, default $DEBIAN_MIRROR).
EOF
}

log() { echo "compose-check: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

REBUILD=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="${2:?--events needs a value}"; shift 2 ;;
    --rate) RATE="${2:?--rate needs a value}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?--timeout needs a value}"; shift 2 ;;
    --rebuild) REBUILD=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unexpected argument: $1" ;;
  esac
done
for n in "$EVENTS" "$RATE" "$TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -gt 0 ]] || die "--events, --rate and --timeout take positive numbers, got '$n'"
done

T0=$SECONDS
phase() { log "[$((SECONDS - T0))s] $*"; }

# ---------------------------------------------------------------------------------------------
# Preflight
# ---------------------------------------------------------------------------------------------
for tool in docker docker-compose mvn javac curl; do
  command -v "$tool" > /dev/null || die "$tool is not on PATH"
done
docker info > /dev/null 2>&1 || die "no Docker engine answers (start dockerd: docs/operations.md)"

# ---------------------------------------------------------------------------------------------
# Artifacts: the job jar, the command line's jar (the monitor is its `kanstream demo watch`) and
# the jars of each image's lib/
# ---------------------------------------------------------------------------------------------
copy_deps() {
  local pom="$1" out="$2" log_file="$STAGE/mvn.log" cache="$STAGE/jars/$(basename "$(dirname "$1")")"
  # resolved once per pom change, then copied from the cache
  if [[ ! -f "$cache/.done" || "$pom" -nt "$cache/.done" || "$REPO_ROOT/pom.xml" -nt "$cache/.done" ]]; then
    rm -rf "$cache"
    mkdir -p "$cache"
    if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
        -DoutputDirectory="$cache" -DincludeScope=runtime > "$log_file" 2>&1; then
      cat "$log_file" >&2
      die "Maven could not resolve $pom"
    fi
    touch "$cache/.done"
  fi
  rm -rf "$out"
  mkdir -p "$out"
  cp "$cache"/*.jar "$out"/
}

# The job jar is built unless it is newer than every source and pom (e.g. right after mvn verify).
job_jar_current() {
  local job="$REPO_ROOT/jobs/target/kanstream-job.jar"
  [[ -f "$job" ]] && [[ -z "$(find "$REPO_ROOT/pom.xml" "$REPO_ROOT/kan-operators" "$REPO_ROOT/jobs" \
    \( -path '*/src/main/*' -o -name pom.xml \) -type f -newer "$job" -print -quit 2> /dev/null)" ]]
}

stage_artifacts() {
  mkdir -p "$STAGE"
  local job="$REPO_ROOT/jobs/target/kanstream-job.jar"
  if job_jar_current; then
    phase "the job jar is newer than the sources: not rebuilding it"
  else
    phase "building the job jar (mvn -DskipTests package)"
    (cd "$REPO_ROOT" && mvn -B -q -Dstyle.color=never -DskipTests -Dspotless.check.skip=true \
      package > "$STAGE/mvn.log" 2>&1) || { cat "$STAGE/mvn.log" >&2; die "mvn package failed"; }
    [[ -f "$job" ]] || die "no $job after mvn package"
  fi
  phase "staging the images' jars"

  rm -rf "$STAGE/kafka" "$STAGE/flink" "$STAGE/kanstream" "$STAGE/prometheus"
  cp -r "$OFFLINE/kafka" "$STAGE/kafka"
  copy_deps "$REPO_ROOT/scripts/kafka/pom.xml" "$STAGE/kafka/libs"
  cp -r "$OFFLINE/flink" "$STAGE/flink"
  copy_deps "$REPO_ROOT/scripts/flink/pom.xml" "$STAGE/flink/lib"
  cp -r "$OFFLINE/prometheus" "$STAGE/prometheus"
  cp -r "$OFFLINE/kanstream" "$STAGE/kanstream"
  copy_deps "$REPO_ROOT/docker/flink/lib/pom.xml" "$STAGE/kanstream/lib"
  # lib/ of the Flink stand-in has these already (one jar per artifact on the classpath)
  local jar
  for jar in "$STAGE"/kanstream/lib/*.jar; do
    [[ -e "$STAGE/flink/lib/$(basename "$jar")" ]] && rm -f "$jar"
  done
  cp "$job" "$STAGE/kanstream/kanstream-job.jar"
  cp "$REPO_ROOT/jobs/target/kanstream-cli.jar" "$STAGE/kanstream/kanstream-cli.jar"
  cp "$REPO_ROOT/docker/flink/kanstream-config.yaml" "$STAGE/kanstream/"
}

# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------
has_image() { docker image inspect "$1" > /dev/null 2>&1; }

base_image() {
  if has_image "$BASE_IMAGE" && [[ "$REBUILD" == false ]]; then
    return 0
  fi
  command -v debootstrap > /dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
  [[ "$(id -u)" -eq 0 ]] || die "debootstrap needs root to make the base image"
  phase "making $BASE_IMAGE with debootstrap (Debian bookworm, OpenJDK 17 JRE, Prometheus)"
  local rootfs="$STAGE/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase \
    --include=openjdk-17-jre-headless,ca-certificates,curl,procps,prometheus \
    bookworm "$rootfs" "$DEBIAN_MIRROR" > "$STAGE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$STAGE/debootstrap.log" >&2; die "debootstrap failed"; }
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" > /dev/null
  rm -rf "$rootfs"
}

# Always built: Docker's layer cache makes an unchanged image a matter of seconds.
build() {
  local image="$1" context="$2"; shift 2
  phase "building $image"
  docker build -t "$image" "$@" "$context" > "$STAGE/build.log" 2>&1 \
    || { tail -n 30 "$STAGE/build.log" >&2; die "docker build of $image failed (context $context)"; }
}

# ---------------------------------------------------------------------------------------------
# The topology
# ---------------------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

compose() { docker-compose -p "$PROJECT" -f "$REPO_ROOT/docker-compose.yml" "$@"; }

left_over() {
  docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"
  docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"
  docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
}

down() {
  trap - ERR
  log "[$((SECONDS - T0))s] taking the topology down (its logs: $STAGE/compose.log)"
  compose logs --no-color --timestamps > "$STAGE/compose.log" 2>&1 || true
  compose down -v --remove-orphans --timeout 20 > "$STAGE/down.log" 2>&1 || cat "$STAGE/down.log" >&2
  local left
  left="$(left_over)"
  if [[ -n "$left" ]]; then
    log "still there after down: $left; removing"
    docker rm -f $(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT") > /dev/null 2>&1 || true
    docker network rm $(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT") > /dev/null 2>&1 || true
    docker volume rm $(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT") > /dev/null 2>&1 || true
  fi
  [[ -z "$(left_over)" ]] && log "nothing of project $PROJECT is left running"
}

# a one-off container of the kanstream image on the topology's network: the kanstream CLI
kanstream_cli() {
  compose run --rm --no-deps -T monitor \
    java -cp '/opt/kanstream/kanstream-cli.jar:/opt/flink/lib/*' io.kanstream.jobs.cli.KanstreamCli "$@"
}

container_state() {
  local id
  id="$(compose ps -q "$1" 2> /dev/null || true)"
  [[ -n "$id" ]] || { echo missing; return; }
  docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id"
}

wait_exited() {
  local service="$1" deadline=$((SECONDS + $2)) state
  while true; do
    state="$(container_state "$service")"
    case "$state" in
      "exited 0") return 0 ;;
      exited*) compose logs --no-color --tail 40 "$service" >&2; die "$service exited: $state" ;;
    esac
    (( SECONDS < deadline )) || { compose logs --no-color --tail 40 "$service" >&2; die "$service not done after $2 s ($state)"; }
    sleep 2
  done
}

main() {
  mkdir -p "$STAGE"
  stage_artifacts
  base_image
  build "$KAFKA_STANDIN" "$STAGE/kafka" -f "$STAGE/kafka/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE"
  build "$FLINK_STANDIN" "$STAGE/flink" -f "$STAGE/flink/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE"
  build "$PROMETHEUS_STANDIN" "$STAGE/prometheus" -f "$STAGE/prometheus/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE"
  build "$KANSTREAM_STANDIN" "$STAGE/kanstream" -f "$STAGE/kanstream/Dockerfile" --build-arg "FLINK_IMAGE=$FLINK_STANDIN"
  # the stand-ins' previous builds, now untagged (only images carrying the stand-ins' label)
  docker image prune -f --filter "label=io.kanstream.offline=stand-in" > /dev/null

  export KAFKA_IMAGE="$KAFKA_STANDIN" FLINK_IMAGE="$FLINK_STANDIN" \
    KANSTREAM_IMAGE="$KANSTREAM_STANDIN" PROMETHEUS_IMAGE="$PROMETHEUS_STANDIN" \
    GENERATOR_COUNT="$EVENTS" GENERATOR_RATE="$RATE"
  KAFKA_PORT="$(free_port)"; FLINK_UI_PORT="$(free_port)"; PROMETHEUS_PORT="$(free_port)"
  export KAFKA_PORT FLINK_UI_PORT PROMETHEUS_PORT

  trap down EXIT
  trap 'exit 130' INT TERM
  phase "docker-compose up (project $PROJECT; Kafka localhost:$KAFKA_PORT, Flink UI localhost:$FLINK_UI_PORT, Prometheus localhost:$PROMETHEUS_PORT)"
  if ! compose up -d --no-build > "$STAGE/up.log" 2>&1; then
    cat "$STAGE/up.log" >&2
    compose logs --no-color --tail 40 submit generator topics >&2 || true
    die "docker-compose up failed"
  fi

  wait_exited submit "$TIMEOUT"
  phase "job submitted: $(compose logs --no-color submit | grep -o 'Job has been submitted with JobID [0-9a-f]*' | tail -n 1)"
  wait_exited generator "$TIMEOUT"
  phase "generator done: $(compose logs --no-color generator | tail -n 1 | sed 's/^[^|]*| //')"

  phase "checking that every event was scored exactly once (chaos verify)"
  local verify
  verify="$(kanstream_cli chaos verify --bootstrap-servers kafka:9092 --wait "${TIMEOUT}s")" \
    || { echo "$verify" >&2; die "not every event was scored exactly once"; }
  echo "$verify" > "$STAGE/verify.json"
  log "verify: $(tr -d ' \n' <<< "$verify" | head -c 600)"

  phase "checking that every key learned (steps on the metrics topic)"
  local steps deadline=$((SECONDS + TIMEOUT))
  while true; do
    steps="$(kanstream_cli chaos steps --bootstrap-servers kafka:9092)"
    python3 - "$steps" <<'PY' && break
import json, sys
steps = json.loads(sys.argv[1])
sys.exit(0 if len(steps) == 4 and all(v > 0 for v in steps.values()) else 1)
PY
    (( SECONDS < deadline )) || die "not every key learned: steps $steps"
    sleep 5
  done
  log "steps per key: $steps"

  phase "checking that Prometheus scraped the learner's metrics"
  local query result
  query='sum(flink_taskmanager_job_task_operator_kanSteps)'
  deadline=$((SECONDS + 60))
  while true; do
    result="$(curl -sf --max-time 5 "http://localhost:$PROMETHEUS_PORT/api/v1/query" \
      --data-urlencode "query=$query" || true)"
    python3 - "$result" <<'PY' && break
import json, sys
try:
    r = json.loads(sys.argv[1])["data"]["result"]
    sys.exit(0 if r and float(r[0]["value"][1]) > 0 else 1)
except Exception:
    sys.exit(1)
PY
    (( SECONDS < deadline )) || die "Prometheus has no $query > 0: $result"
    sleep 3
  done
  log "prometheus: $query = $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["result"][0]["value"][1])' "$result")"
  local targets
  targets="$(curl -sf --max-time 5 "http://localhost:$PROMETHEUS_PORT/api/v1/targets" \
    | python3 -c 'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"]; print(" ".join(x["labels"]["instance"]+"="+x["health"] for x in t))')"
  log "prometheus targets: $targets"
  log "monitor, last lines:"
  compose logs --no-color --tail 6 monitor >&2 || true

  phase "all checks passed"
}

main
