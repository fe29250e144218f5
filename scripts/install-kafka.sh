#!/usr/bin/env bash
# Installs the Apache Kafka broker pinned in stack/versions.env from Maven Central jars (no tarball,
# no Docker) into the user's cache, outside the clone:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tickwire}/kafka-<version>/
#     libs/              kafka_2.13, its runtime dependencies and a log4j2 backend (java -cp 'libs/*')
#     log4j2.properties  console logging at INFO, noisy loggers quieted
#     .complete          written last: its presence means the install is whole
# `install-kafka.sh tools` installs Kafka's command-line tools of the same version instead (the
# kafka-tools jar: ProducerPerformance and ConsumerPerformance, which the benchmarks run as the
# broker's own ceiling), the same way, into kafka-tools-<version>/ (libs/ and .complete): a folder
# of its own, so the broker's classpath stays exactly as it is.
# A complete install makes a second run a no-op. The install is built in a temporary directory and
# renamed into place, so an interrupted run never leaves a half-filled cache; a lock serialises
# concurrent runs so the jars are fetched once. Progress goes to stderr; the last line of stdout is
# the install directory. Needs Java 17+ and Maven (mvn) with its default repository.
set -euo pipefail

script=install-kafka
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kafka_version="$(pinned KAFKA_VERSION)"
case ${1:-broker} in
  broker) name=kafka artifact=kafka_2.13 ;;
  tools) name=kafka-tools artifact=kafka-tools ;;
  *) die "unknown part '$1': broker (the default) or tools" ;;
esac
target="$cache_root/$name-$kafka_version"

if [[ -f "$target/.complete" ]]; then
    echo "$target"
    exit 0
fi

log4j_version="$(pinned KAFKA_LOG4J_VERSION)"
plugin_version="$(pinned KAFKA_MVN_DEPENDENCY_PLUGIN_VERSION)"
for tool in java mvn flock; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-kafka: '$tool' is not on PATH (the broker needs Java 17+ and Maven)" >&2
        exit 1
    fi
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.$name-$kafka_version.lock"
flock 9
# Another run may have finished the install while this one waited for the lock.
if [[ -f "$target/.complete" ]]; then
    echo "$target"
    exit 0
fi

# Holding the lock, any staging directory left here belongs to a run that was killed.
rm -rf "$cache_root/.$name-$kafka_version.tmp."*
work="$(mktemp -d "$cache_root/.$name-$kafka_version.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP  # so that the EXIT trap cleans up after a signal too
stage="$work/$name-$kafka_version"
mkdir -p "$stage/libs"

# Kafka 4.x logs through slf4j 1.7 and declares no backend: log4j-slf4j-impl is the slf4j 1.x
# binding (log4j-slf4j2-impl would bind nothing). Kafka's artifact is listed first so that its
# slf4j-api version wins Maven's nearest-first tie-break. The tools log through the same binding.
cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tickwire.localstack</groupId>
  <artifactId>$name-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>$artifact</artifactId>
      <version>$kafka_version</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$log4j_version</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$log4j_version</version>
    </dependency>
  </dependencies>
</project>
EOF

echo "install-kafka: fetching Apache Kafka's $artifact $kafka_version jars with Maven into $target" >&2
# mvn's own output goes to stderr so that stdout carries only the install directory.
mvn -q -B -f "$work/pom.xml" \
    "org.apache.maven.plugins:maven-dependency-plugin:$plugin_version:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$stage/libs" >&2

for jar in "$artifact-$kafka_version.jar" "log4j-core-$log4j_version.jar" \
    "log4j-slf4j-impl-$log4j_version.jar"; do
    if [[ ! -f "$stage/libs/$jar" ]]; then
        echo "install-kafka: Maven finished but $jar is missing from libs/" >&2
        exit 1
    fi
done

[[ $name == kafka ]] && cat >"$stage/log4j2.properties" <<'EOF'
# Broker log for local runs and tests: everything to the console (the caller redirects it to a
# file), INFO by default. Quieted to WARN: the full config dumps (~350 lines for each of the
# broker's configs and internal clients; server.properties beside the log has what was set) and
# the loggers that repeat themselves for every request or client connection.
status = warn
# Kafka logs its own shutdown after SIGTERM; log4j's shutdown hook would stop logging first and
# lose it. The console appender flushes every line, so there is nothing to flush at exit.
shutdownHook = disable
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.requestchannel.name = kafka.network.RequestChannel$
logger.requestchannel.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
EOF

touch "$stage/.complete"
# rename(2) is atomic: readers see either no install or a whole one. A leftover directory without
# the marker (not made by this script) is moved aside first.
if [[ -e "$target" ]]; then
    mv -T "$target" "$work/replaced"
fi
mv -T "$stage" "$target"
echo "install-kafka: installed $(find "$target/libs" -name '*.jar' | wc -l) jars" >&2
echo "$target"
