#!/bin/bash
# The official Flink image's entrypoint, as far as docker-compose.yml uses it: `jobmanager` runs
# a session cluster's JobManager, `taskmanager` a TaskManager, anything else runs as given. First
# JOB_MANAGER_RPC_ADDRESS and the lines of FLINK_PROPERTIES go into conf/config.yaml. JVM flags
# come from Flink's own BashJavaUtils, the memory arithmetic of jobmanager.sh / taskmanager.sh.
set -euo pipefail
conf="$FLINK_HOME/conf/config.yaml"
# shellcheck source=bin/java-opens.sh
. "$FLINK_HOME/bin/java-opens.sh"

set_conf() {
  local key="$1" value="$2"
  if grep -q "^${key//./\\.}:" "$conf"; then
    sed -i "s|^${key//./\\.}:.*|$key: $value|" "$conf"
  else
    echo "$key: $value" >> "$conf"
  fi
}

conf_value() { sed -n "s|^${1//./\\.}: *||p" "$conf" | tail -n 1; }

params() {
  local out
  out="$(java -Xmx128m -cp "$FLINK_HOME/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils \
    "$1" --configDir "$FLINK_HOME/conf" 2>&1)" || { echo "$out" >&2; exit 1; }
  sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' <<< "$out"
}

run() {
  local main="$1" what="$2" opts="$3" p jvm dyn
  p="$(params "$what")"
  jvm="$(sed -n 1p <<< "$p")"
  dyn="$(sed -n 2p <<< "$p")"
  # shellcheck disable=SC2086  # flag lists
  exec java $jvm $JAVA_OPENS $opts -Dlog4j.configurationFile="file:$FLINK_HOME/conf/log4j-console.properties" \
    -cp "$FLINK_HOME/lib/*" "$main" --configDir "$FLINK_HOME/conf" $dyn
}

set_conf jobmanager.rpc.address "${JOB_MANAGER_RPC_ADDRESS:-localhost}"
# one `key: value` per line; a key already set is replaced (config.yaml is YAML: no duplicates)
while IFS= read -r line; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  set_conf "${line%%:*}" "$(sed 's/^ *//' <<< "${line#*:}")"
done <<< "${FLINK_PROPERTIES:-}"

case "${1:-}" in
  jobmanager)
    run org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
      GET_JM_RESOURCE_PARAMS "$(conf_value env.java.opts.all) $(conf_value env.java.opts.jobmanager)" ;;
  taskmanager)
    run org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
      GET_TM_RESOURCE_PARAMS "$(conf_value env.java.opts.all) $(conf_value env.java.opts.taskmanager)" ;;
  *)
    exec "$@" ;;
esac
