#!/bin/bash
# The broker, configured as apache/kafka configures it: every KAFKA_<NAME> variable becomes the
# property <name> (lower case, _ -> ., __ -> _, ___ -> -); the storage is formatted on first start.
set -euo pipefail
props=/opt/kafka/config/server.properties
{
  echo "log.dirs=/var/lib/kafka/data"
  while IFS='=' read -r name value; do
    case "$name" in KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS) continue ;; esac
    key="${name#KAFKA_}"
    key="${key,,}"; key="${key//___/-}"; key="${key//__/@}"; key="${key//_/.}"; key="${key//@/_}"
    echo "$key=$value"
  done < <(env | grep '^KAFKA_' || true)
} > "$props"
if [[ ! -f /var/lib/kafka/data/meta.properties ]]; then
  java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties \
    -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format \
    -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$props"
fi
# shellcheck disable=SC2086  # heap flags are a word list
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
