#!/usr/bin/env bash
# kafka-local.sh — run a real single-node Kafka broker (KRaft, broker+controller in one JVM)
# straight from Maven artifacts: no Docker, no Kafka tarball, no ZooKeeper.
#
# The broker's runtime classpath comes from scripts/kafka/pom.xml (org.apache.kafka:kafka_2.13).
# Maven is asked for it once; the result is cached in the state dir and reused afterwards,
# so only the very first use may download anything.
#
# Everything the broker writes lives under one state dir (default <repo>/.kanstream/kafka):
#   classpath.txt      cached runtime classpath (re-resolved when scripts/kafka/pom.xml changes)
#   server.properties  generated on every start (port/partitions follow the current env/flags)
#   log4j2.xml         broker logging -> logs/server.log
#   tools-log4j2.xml   CLI tools logging -> stderr, WARN only
#   cluster.id         KRaft cluster id used to format data/
#   data/              log.dirs (topic data + __cluster_metadata); meta.properties == "formatted"
#   logs/              server.log (broker log4j) and console.out (JVM stdout/stderr, GC/crash output)
#   kafka.pid          pid of the running broker JVM
#   .lock              flock serialising concurrent start/stop calls
#   mode               plaintext or secure: how data/ was formatted (switching needs --clean)
#   secure/            --secure only (mode 700): ca.crt, broker.p12 and broker.secrets (the
#                      keystore and inter-broker passwords), made at the first secure start
#   client.properties  --secure only (mode 600): client settings for the local user, password
#                      included; pass it as --kafka-properties / --command-config
set -Eeuo pipefail
SCRIPT=kafka-local
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

readonly KAFKA_MAIN=kafka.Kafka
readonly STORAGE_TOOL=kafka.tools.StorageTool
readonly TOPIC_TOOL=org.apache.kafka.tools.TopicCommand

POM="$ROOT/scripts/kafka/pom.xml"

STATE_DIR="$KANSTREAM_HOME/kafka"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
PID_FILE="$STATE_DIR/kafka.pid"
CP_FILE="$STATE_DIR/classpath.txt"
SERVER_PROPS="$STATE_DIR/server.properties"
LOG4J_BROKER="$STATE_DIR/log4j2.xml"
LOG4J_TOOLS="$STATE_DIR/tools-log4j2.xml"
CLUSTER_ID_FILE="$STATE_DIR/cluster.id"
MODE_FILE="$STATE_DIR/mode"
SECURE_DIR="$STATE_DIR/secure"
CLIENT_PROPS="$STATE_DIR/client.properties"
SCRAM_USER="${KAFKA_SCRAM_USER:-kanstream}"
# SCRAM user the broker authenticates as to its own SASL_SSL listener (inter-broker traffic)
readonly BROKER_USER=kanstream-broker
readonly SCRAM_MECHANISM=SCRAM-SHA-512

PORT="${KAFKA_PORT:-9092}"
NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-4}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"   # seconds until the broker must answer (--secure: 120)
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"     # seconds of grace after SIGTERM before SIGKILL
# Modest heap: this is a dev/test broker on a small (2-core) machine next to Flink + DJL.
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# CLI tools are short-lived: small heap, C1 only and serial GC start noticeably faster.
TOOL_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto)

usage() {
  cat <<EOF
Usage: $(basename "$0") COMMAND [OPTIONS]

Run a single-node Kafka 4.1.1 broker (KRaft) from Maven artifacts, without Docker.

Commands:
  start [--port N] [--clean] [--secure]
                                 start in the background and wait until it answers
                                 (already running: says so, exit 0; --clean stops it first,
                                 wipes data/ and logs/ and starts from an empty cluster).
                                 --secure: the client listener speaks SASL_SSL (SCRAM-SHA-512
                                 over TLS) with a CA and broker certificate made by keytool and
                                 the SCRAM user \$KAFKA_SCRAM_USER (default kanstream) with a
                                 random password, written with the rest of the client settings
                                 to client.properties in the state dir (mode 600; the password
                                 is never printed). Switching mode needs --clean.
  stop                           SIGTERM, wait up to ${STOP_TIMEOUT}s, then SIGKILL (idempotent)
  status                         print running/stopped, the bootstrap address, and in secure
                                 mode the client properties file; exit 0 if running, 3 if stopped
  topics create NAME [PARTS]     create a topic (replication 1, default PARTS=$NUM_PARTITIONS), idempotent
  topics list                    list topics
  tool MAIN_CLASS [ARGS...]      run any Kafka CLI class with the broker classpath, e.g.
                                 tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server localhost:9092 --topic t
                                 (a secure broker: add --producer.config or --command-config
                                 with the state dir's client.properties, as the tool names it)
  classpath                      print the (cached) runtime classpath
  -h, --help                     this help

Options (also for status/stop/topics, to pick the port when no broker state exists yet):
  --port N                       client port (env KAFKA_PORT, default 9092); controller uses N+1
                                 (the controller listener is PLAINTEXT on localhost in both modes)

Environment:
  KANSTREAM_HOME          state lives in \$KANSTREAM_HOME/kafka (default: <repo>/.kanstream/kafka)
  KAFKA_PORT              client port (default 9092)
  KAFKA_SCRAM_USER        --secure: the SCRAM user of client.properties (default kanstream)
  KAFKA_NUM_PARTITIONS    num.partitions for auto-created topics (default 4)
  KAFKA_START_TIMEOUT     seconds to wait for the broker (default 60, --secure 120)
  KAFKA_STOP_TIMEOUT      seconds to wait after SIGTERM (default 30)
  KAFKA_HEAP_OPTS         broker heap flags (default "-Xms256m -Xmx512m")

State dir: $STATE_DIR
EOF
}

# ---------------------------------------------------------------------------------------------
# Classpath: resolved once by Maven, cached in the state dir.
# ---------------------------------------------------------------------------------------------
ensure_classpath() {
  mkdir -p "$STATE_DIR"
  classpath_cached "$CP_FILE" "$POM" && return 0
  log "resolving Kafka classpath with Maven (first use may download ~50 MB of jars)..."
  resolve_classpath "$POM" "$CP_FILE"
}

classpath() { cat "$CP_FILE"; }

# Run a Kafka CLI main class (TopicCommand, ConsoleProducer, ...) with quiet logging.
run_tool() {
  ensure_classpath
  write_tools_log4j
  local main="$1"; shift
  java "${TOOL_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$LOG4J_TOOLS" \
    -cp "$(classpath)" "$main" "$@"
}

# ---------------------------------------------------------------------------------------------
# Process bookkeeping
# ---------------------------------------------------------------------------------------------

# Every broker JVM we start carries this marker, so that we can (a) verify that the pid in the
# pid file is really *our* broker (pids get reused) and (b) find it again if the pid file is lost,
# without ever touching another Kafka (e.g. one started with a different KANSTREAM_HOME).
marker() { echo "-Dkanstream.kafka.home=$STATE_DIR"; }

# Prints the broker pid if it is running; returns 1 otherwise. Cleans up a stale pid file.
running_pid() { find_pid "$PID_FILE" "$(marker)" "$KAFKA_MAIN"; }

# The port of the running broker comes from the properties it was started with, not from the
# current env, so that `status`/`topics` keep working when called without --port.
effective_port() {
  if running_pid >/dev/null && [[ -f "$SERVER_PROPS" ]]; then
    local p
    p="$(sed -n 's#^listeners=[A-Z_]*://[^:]*:\([0-9]*\).*#\1#p' "$SERVER_PROPS")"
    [[ -n "$p" ]] && { echo "$p"; return; }
  fi
  echo "$PORT"
}

# How data/ was formatted; state from before the secure mode existed is plaintext.
current_mode() {
  if [[ -s "$MODE_FILE" ]]; then cat "$MODE_FILE"; else echo plaintext; fi
}

# Kafka tool arguments that authenticate to the broker: none in plaintext mode. Printed as
# words for an unquoted $(...): the state dir path must not contain spaces in secure mode.
client_config_args() {
  if [[ "$(current_mode)" == secure && -s "$CLIENT_PROPS" ]]; then
    echo "--command-config $CLIENT_PROPS"
  fi
}

# Copies stdin to stdout with every password of broker.secrets replaced.
redact_secrets() {
  local sed_args=() line
  if [[ -f "$SECURE_DIR/broker.secrets" ]]; then
    while IFS='=' read -r _ line; do
      [[ -n "$line" ]] && sed_args+=(-e "s/$line/[redacted]/g")
    done < "$SECURE_DIR/broker.secrets"
  fi
  if (( ${#sed_args[@]} )); then sed "${sed_args[@]}"; else cat; fi
}

# server.log is appended across runs, so only show what this run wrote (from byte offset $1).
log_tail() {
  local from="${1:-0}"
  local lines=""
  [[ -f "$LOG_DIR/server.log" ]] && lines="$(tail -c "+$((from + 1))" "$LOG_DIR/server.log" | tail -n 40)"
  if [[ -n "$lines" ]]; then
    echo "----- last 40 lines of $LOG_DIR/server.log (this run) -----" >&2
    echo "$lines" >&2
  fi
  if [[ -s "$LOG_DIR/console.out" ]]; then   # truncated on each start
    echo "----- last 40 lines of $LOG_DIR/console.out -----" >&2
    tail -n 40 "$LOG_DIR/console.out" >&2
  fi
}

# Two test JVMs (parallel Maven forks) calling `start` at once must not both launch a broker.
lock() { take_lock "$STATE_DIR" $((START_TIMEOUT + STOP_TIMEOUT + 120)); }

# ---------------------------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------------------------
write_server_props() {
  local controller_port="$1" secure="$2"
  # Regenerated on every start so that --port / KAFKA_NUM_PARTITIONS take effect. That is safe with
  # a *static* quorum (controller.quorum.voters): formatting does not record the voters' endpoints.
  # In secure mode it holds the keystore and inter-broker passwords: readable by the owner only.
  rm -f "$SERVER_PROPS"
  (umask 077; : > "$SERVER_PROPS")
  cat >> "$SERVER_PROPS" <<EOF
# Generated by scripts/kafka-local.sh — edits are overwritten on the next start.
# Single node acting as both KRaft controller and broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:$controller_port
controller.listener.names=CONTROLLER
EOF
  if [[ "$secure" == true ]]; then
    # shellcheck disable=SC1090  # KEYSTORE_PASSWORD, BROKER_PASSWORD
    source "$SECURE_DIR/broker.secrets"
    cat >> "$SERVER_PROPS" <<EOF
# Clients and the broker itself (inter-broker traffic) speak SASL_SSL: SCRAM over TLS. The
# controller listener stays PLAINTEXT on localhost (KRaft controllers cannot use SCRAM: its
# credentials live in the metadata the controllers serve).
listeners=SASL_SSL://localhost:$PORT,CONTROLLER://localhost:$controller_port
advertised.listeners=SASL_SSL://localhost:$PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=$SCRAM_MECHANISM
sasl.mechanism.inter.broker.protocol=$SCRAM_MECHANISM
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$BROKER_USER" password="$BROKER_PASSWORD";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/broker.p12
ssl.keystore.password=$KEYSTORE_PASSWORD
ssl.key.password=$KEYSTORE_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.crt
ssl.client.auth=none
EOF
  else
    cat >> "$SERVER_PROPS" <<EOF
listeners=PLAINTEXT://localhost:$PORT,CONTROLLER://localhost:$controller_port
advertised.listeners=PLAINTEXT://localhost:$PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
  fi
  cat >> "$SERVER_PROPS" <<EOF

log.dirs=$DATA_DIR

# One broker: every internal topic must live with replication factor 1 / min ISR 1, otherwise
# consumer groups, transactions (Flink exactly-once) and share groups never become available.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: faster first group/transaction on a 2-core box.
# (Only read when the internal topic is first created, i.e. after a format / --clean.)
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10

auto.create.topics.enable=true
num.partitions=$NUM_PARTITIONS

# Flink's KafkaSink (EXACTLY_ONCE) uses transaction timeouts up to 15 min; the broker default
# cap is also 15 min but we set it explicitly so the contract is visible here.
transaction.max.timeout.ms=900000
# Tests start consumers one after another: don't wait 3 s for more members before the first rebalance.
group.initial.rebalance.delay.ms=0
EOF
}

# A fresh random secret: 32 hex digits (nothing a properties file or JAAS would need quoted).
random_secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# keytool in a small, quickly starting JVM (it runs seven times on the first secure start).
kt() { keytool -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -J-Xshare:auto "$@"; }

# The first secure start makes a CA, a broker certificate it signs (for localhost and 127.0.0.1,
# so clients verify the host name as they do by default), the passwords, and client.properties.
# Later starts reuse them; --clean wipes them with the data (the SCRAM users live in data/).
ensure_secure_material() {
  [[ -s "$SECURE_DIR/broker.secrets" && -s "$SECURE_DIR/broker.p12" && -s "$CLIENT_PROPS" ]] \
    && return 0
  command -v keytool >/dev/null || die "keytool not on PATH (it comes with the JDK)"
  rm -rf "$SECURE_DIR" "$CLIENT_PROPS"
  (umask 077; mkdir -p "$SECURE_DIR")
  local ks_pw ca_pw client_pw broker_pw
  ks_pw="$(random_secret)"; ca_pw="$(random_secret)"
  client_pw="$(random_secret)"; broker_pw="$(random_secret)"
  local san="SAN=dns:localhost,ip:127.0.0.1" out="$SECURE_DIR/keytool.out"
  log "making a CA and a broker certificate with keytool in $SECURE_DIR"
  # Passwords reach keytool through the environment (:env), never on its command line.
  if ! (
    set -e
    cd "$SECURE_DIR"
    export KS_PW="$ks_pw" CA_PW="$ca_pw"
    kt -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 825 \
      -dname "CN=kanstream local CA" -ext bc:c -storetype PKCS12 \
      -keystore ca.p12 -storepass:env CA_PW
    kt -exportcert -rfc -alias ca -keystore ca.p12 -storepass:env CA_PW -file ca.crt
    kt -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 825 \
      -dname "CN=localhost" -ext "$san" -storetype PKCS12 \
      -keystore broker.p12 -storepass:env KS_PW
    kt -certreq -alias broker -keystore broker.p12 -storepass:env KS_PW -file broker.csr
    kt -gencert -rfc -alias ca -keystore ca.p12 -storepass:env CA_PW -validity 825 \
      -ext "$san" -ext ku:c=digitalSignature,keyEncipherment -ext eku=serverAuth \
      -infile broker.csr -outfile broker.crt
    cat broker.crt ca.crt > broker-chain.crt
    kt -importcert -noprompt -alias ca -file ca.crt -keystore broker.p12 -storepass:env KS_PW
    kt -importcert -noprompt -alias broker -file broker-chain.crt \
      -keystore broker.p12 -storepass:env KS_PW
    rm -f broker.csr broker.crt broker-chain.crt
  ) > "$out" 2>&1; then
    cat "$out" >&2
    rm -rf "$SECURE_DIR"
    die "keytool could not make the certificates"
  fi
  # The CA's key is not needed again: nothing is signed after this start.
  rm -f "$SECURE_DIR/ca.p12" "$out"
  (umask 077; cat > "$SECURE_DIR/broker.secrets" <<EOF
KEYSTORE_PASSWORD=$ks_pw
BROKER_PASSWORD=$broker_pw
CLIENT_PASSWORD=$client_pw
EOF
  )
  (umask 077; cat > "$CLIENT_PROPS" <<EOF
# Client settings for the local secured broker (scripts/kafka-local.sh start --secure).
# Holds a password: keep it private. Use it as
#   kanstream run|produce|replay --bootstrap-servers localhost:$PORT --kafka-properties $CLIENT_PROPS
#   Kafka's tools: --command-config $CLIENT_PROPS
security.protocol=SASL_SSL
sasl.mechanism=$SCRAM_MECHANISM
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$SCRAM_USER" password="$client_pw";
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.crt
EOF
  )
}

write_broker_log4j() {
  # log4j2 XML (not Kafka's log4j2.yaml): XML needs nothing besides log4j-core.
  # Selected with -Dlog4j2.configurationFile (the old log4j 1 property log4j.configuration is ignored).
  cat > "$LOG4J_BROKER" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="$LOG_DIR/server.log" filePattern="$LOG_DIR/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="50 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <!-- Quiet the chattiest INFO sources; WARN+ still lands in server.log. -->
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
  </Loggers>
</Configuration>
EOF
}

write_tools_log4j() {
  [[ -f "$LOG4J_TOOLS" ]] && return 0
  mkdir -p "$STATE_DIR"
  # Tools print their data (topic names, records) on stdout; keep log noise off it.
  cat > "$LOG4J_TOOLS" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
cmd_start() {
  local clean="$1" secure="$2" pid mode=plaintext
  [[ "$secure" == true ]] && mode=secure
  if pid="$(running_pid)"; then
    if [[ "$clean" != true ]]; then
      [[ "$(current_mode)" == "$mode" ]] \
        || die "a $(current_mode) broker is running (pid $pid): stop it first, or start --clean to switch to $mode"
      log "already running ($mode, pid $pid) on localhost:$(effective_port)"
      [[ "$mode" == secure ]] && log "client settings (password included): $CLIENT_PROPS"
      return 0
    fi
    log "--clean: stopping the running broker first"
    cmd_stop
  fi

  local controller_port="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
  # Fail fast with a clear message instead of a BindException buried in the log.
  local p
  for p in "$PORT" "$controller_port"; do
    port_open "$p" && die "port $p is already in use by another process"
  done

  ensure_classpath
  if [[ "$clean" == true ]]; then
    log "--clean: wiping $DATA_DIR and $LOG_DIR"
    rm -rf "$DATA_DIR" "$LOG_DIR" "$CLUSTER_ID_FILE" "$MODE_FILE" "$SECURE_DIR" "$CLIENT_PROPS"
  fi
  if [[ -f "$DATA_DIR/meta.properties" && "$(current_mode)" != "$mode" ]]; then
    die "$DATA_DIR was formatted for a $(current_mode) broker: start --clean to switch to $mode (it wipes the topics)"
  fi
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  [[ "$secure" == true ]] && ensure_secure_material
  write_server_props "$controller_port" "$secure"
  write_broker_log4j
  write_tools_log4j

  # Format storage only once: meta.properties in log.dirs means "already formatted", and
  # formatting again would fail (or, with --ignore-formatted, silently keep the old cluster id).
  # No --standalone: that is for a *dynamic* quorum; we use the static controller.quorum.voters.
  if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
      run_tool "$STORAGE_TOOL" random-uuid > "$CLUSTER_ID_FILE.tmp"
      mv -f "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
    fi
    # Secure mode: the SCRAM users exist from the start (KRaft keeps them in the metadata log,
    # and the broker needs its own before it can talk to its SASL_SSL listener).
    local scram=()
    if [[ "$secure" == true ]]; then
      # shellcheck disable=SC1090  # BROKER_PASSWORD, CLIENT_PASSWORD
      source "$SECURE_DIR/broker.secrets"
      scram=(--add-scram "$SCRAM_MECHANISM=[name=$BROKER_USER,password=$BROKER_PASSWORD]"
             --add-scram "$SCRAM_MECHANISM=[name=$SCRAM_USER,password=$CLIENT_PASSWORD]")
    fi
    log "formatting $DATA_DIR (cluster id $(cat "$CLUSTER_ID_FILE"), $mode)"
    if ! run_tool "$STORAGE_TOOL" format -t "$(cat "$CLUSTER_ID_FILE")" -c "$SERVER_PROPS" \
        "${scram[@]+"${scram[@]}"}" > "$LOG_DIR/format.out" 2>&1; then
      redact_secrets < "$LOG_DIR/format.out" >&2
      die "storage format failed"
    fi
    echo "$mode" > "$MODE_FILE"
  fi

  local t0=$SECONDS log_from=0
  [[ -f "$LOG_DIR/server.log" ]] && log_from="$(stat -c %s "$LOG_DIR/server.log")"
  #  - setsid: own session, so a Ctrl-C / SIGHUP aimed at the caller's process group (terminal,
  #    Maven, a JUnit fork) does not kill the broker; only `stop` does. In a non-interactive
  #    shell the background child is not a group leader, so setsid execs in place and $! is
  #    the JVM's pid.
  #  - stdin/stdout/stderr detached to files: a caller reading our output through a pipe
  #    (ProcessBuilder, $(...)) would otherwise block until the *broker* exits. 9>&-: the lock
  #    (take_lock) stays with this script.
  #  - the marker property lets stop/status recognise this exact broker (see marker()).
  # shellcheck disable=SC2086  # HEAP_OPTS is intentionally word-split
  setsid java $HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$LOG4J_BROKER" \
    "$(marker)" \
    -cp "$(classpath)" "$KAFKA_MAIN" "$SERVER_PROPS" \
    < /dev/null > "$LOG_DIR/console.out" 2>&1 9>&- &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  log "started pid $pid, waiting up to ${START_TIMEOUT}s for localhost:$PORT"

  # Ready = port accepts connections AND an admin request (list topics) succeeds. The port alone
  # is not enough: the socket server can accept before the broker has caught up with metadata.
  local deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$log_from"
      rm -f "$PID_FILE"
      die "broker exited during startup"
    fi
    if port_open "$PORT"; then
      # Each probe is capped (15 s, 30 s for a cold JVM's first TLS + SCRAM handshake) so one
      # hung attempt cannot eat the whole budget.
      local cap=15; [[ "$secure" == true ]] && cap=30
      local left=$((deadline - SECONDS)); (( left > cap )) && left=$cap; (( left < 5 )) && left=5
      # timeout: the AdminClient would otherwise retry for default.api.timeout.ms (60 s).
      if timeout "$left" java "${TOOL_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$LOG4J_TOOLS" \
          -cp "$(classpath)" "$TOPIC_TOOL" --bootstrap-server "localhost:$PORT" --list \
          $(client_config_args) > /dev/null 2>>"$LOG_DIR/readiness.err"; then
        log "ready: bootstrap localhost:$PORT ($mode, pid $pid, $((SECONDS - t0))s)"
        if [[ "$secure" == true ]]; then
          log "SASL_SSL ($SCRAM_MECHANISM) as user $SCRAM_USER; client settings, password included:"
          log "  $CLIENT_PROPS"
        fi
        return 0
      fi
    fi
    sleep 0.5
  done
  log_tail "$log_from"
  # Don't leave a half-started broker behind: callers treat a failed start as "nothing running".
  log "not ready after ${START_TIMEOUT}s, stopping pid $pid"
  cmd_stop || true
  exit 1
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s)"
  # SIGTERM triggers Kafka's shutdown hook: controlled shutdown, flush and close of the logs,
  # so the next start needs no log recovery.
  stop_pid "$pid" TERM "$STOP_TIMEOUT"
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if [[ "$(current_mode)" == secure ]]; then
      echo "running pid=$pid bootstrap=localhost:$(effective_port) state=$STATE_DIR mode=secure" \
        "client-properties=$CLIENT_PROPS"
    else
      echo "running pid=$pid bootstrap=localhost:$(effective_port) state=$STATE_DIR"
    fi
    return 0
  fi
  echo "stopped bootstrap=localhost:$PORT state=$STATE_DIR"
  return 3
}

cmd_topics() {
  local sub="${1:-}"; shift || true
  local bs; bs="localhost:$(effective_port)"
  case "$sub" in
    create)
      [[ $# -ge 1 ]] || die "usage: topics create NAME [PARTITIONS]"
      # --if-not-exists makes this idempotent (handy for test setup).
      # shellcheck disable=SC2046  # client_config_args: none, or --command-config FILE
      run_tool "$TOPIC_TOOL" --bootstrap-server "$bs" --create --if-not-exists \
        --topic "$1" --partitions "${2:-$NUM_PARTITIONS}" --replication-factor 1 \
        $(client_config_args)
      ;;
    list)
      # shellcheck disable=SC2046
      run_tool "$TOPIC_TOOL" --bootstrap-server "$bs" --list $(client_config_args)
      ;;
    *) die "usage: topics create NAME [PARTITIONS] | topics list" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Argument parsing: COMMAND first, options anywhere after it (tool/topics pass the rest through).
# ---------------------------------------------------------------------------------------------
main() {
  [[ $# -ge 1 ]] || { usage >&2; exit 2; }
  local cmd="$1"; shift
  case "$cmd" in
    -h|--help|help) usage; exit 0 ;;
    tool)
      [[ $# -ge 1 ]] || die "usage: tool MAIN_CLASS [ARGS...]"
      run_tool "$@"; exit $? ;;
  esac

  local clean=false secure=false
  local rest=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) [[ $# -ge 2 ]] || die "--port needs a value"; PORT="$2"; shift 2 ;;
      --port=*) PORT="${1#--port=}"; shift ;;
      --clean) clean=true; shift ;;
      --secure)
        secure=true
        # TLS + SCRAM: the broker's own inter-broker login and a cold probe JVM's handshake
        START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
        shift ;;
      -h|--help) usage; exit 0 ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "invalid port: $PORT"

  case "$cmd" in
    start)     [[ ${#rest[@]} -eq 0 ]] || die "unexpected arguments: ${rest[*]}"
               lock; cmd_start "$clean" "$secure" ;;
    stop)      lock; cmd_stop ;;
    status)    cmd_status || exit $? ;;   # exit 3 = stopped, not an error worth a trap message
    topics)    cmd_topics "${rest[@]+"${rest[@]}"}" ;;
    classpath) ensure_classpath; classpath; echo ;;
    *) log "unknown command: $cmd"; usage >&2; exit 2 ;;
  esac
}

main "$@"
