#!/bin/bash
# Starts the broker as apache/kafka does: KAFKA_* variables become server.properties (one `_`
# a dot, `__` an underscore, `___` a dash), storage is formatted with CLUSTER_ID on first start,
# then the broker replaces this script as PID 1 so that it sees SIGTERM.
set -euo pipefail

config_dir=${KAFKA_CONFIG_DIR:-/tmp/kafka-config}
mkdir -p "$config_dir"
properties=$config_dir/server.properties

# What a variable does not set: one node, broker and controller, reachable on localhost:9092.
defaults=(
  node.id=1
  process.roles=broker,controller
  controller.quorum.voters=1@localhost:9093
  listeners=PLAINTEXT://:9092,CONTROLLER://:9093
  advertised.listeners=PLAINTEXT://localhost:9092
  listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
  controller.listener.names=CONTROLLER
  inter.broker.listener.name=PLAINTEXT
  log.dirs=/var/lib/kafka/data
  offsets.topic.replication.factor=1
  transaction.state.log.replication.factor=1
  transaction.state.log.min.isr=1
  share.coordinator.state.topic.replication.factor=1
  share.coordinator.state.topic.min.isr=1
)
# The JVM's own variables, not broker settings.
not_settings='^KAFKA_(HEAP_OPTS|JVM_PERFORMANCE_OPTS|OPTS|CONFIG_DIR)$'

declare -A setting
for pair in "${defaults[@]}"; do
  setting[${pair%%=*}]=${pair#*=}
done
while IFS='=' read -r name value; do
  [[ $name == KAFKA_* && ! $name =~ $not_settings ]] || continue
  key=${name#KAFKA_}
  key=${key,,}
  key=${key//___/-}
  key=${key//__/@}
  key=${key//_/.}
  key=${key//@/_}
  setting[$key]=$value
done < <(env)
: >"$properties"
for key in "${!setting[@]}"; do
  printf '%s=%s\n' "$key" "${setting[$key]}" >>"$properties"
done

classpath='/opt/kafka/libs/*'
log4j=-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties
heap=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
read -r -a heap_opts <<<"$heap"
read -r -a extra_opts <<<"${KAFKA_OPTS:-}"

log_dir=${setting[log.dirs]%%,*}
if [[ ! -f $log_dir/meta.properties ]]; then
  cluster_id=${CLUSTER_ID:-$(java -cp "$classpath" "$log4j" kafka.tools.StorageTool random-uuid)}
  java -cp "$classpath" "$log4j" kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$cluster_id" --config "$properties"
fi

exec java "${heap_opts[@]}" -Djava.awt.headless=true "$log4j" "${extra_opts[@]}" \
  -cp "$classpath" kafka.Kafka "$properties"
