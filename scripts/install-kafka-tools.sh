#!/usr/bin/env bash
# Installs Apache Kafka's command-line tools jar (kafka-tools: ProducerPerformance and
# ConsumerPerformance, which the benchmarks run as the broker's own ceiling) for the broker version
# pinned in stack/versions.env, from Maven Central, into the user's cache, beside the broker:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tickwire}/kafka-tools-<version>/
#     libs/      kafka-tools and its runtime dependencies (java -cp 'libs/*')
#     .complete  written last: its presence means the install is whole
# A folder of its own, so the broker's classpath (scripts/install-kafka.sh) stays exactly as it is.
# Built in a temporary directory and renamed into place under a lock, like the broker's install.
# Progress goes to stderr; the last line of stdout is the install directory.
set -euo pipefail

script=install-kafka-tools
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kafka_version="$(pinned KAFKA_VERSION)"
target="$cache_root/kafka-tools-$kafka_version"

if [[ -f "$target/.complete" ]]; then
  echo "$target"
  exit 0
fi

log4j_version="$(pinned KAFKA_LOG4J_VERSION)"
plugin_version="$(pinned KAFKA_MVN_DEPENDENCY_PLUGIN_VERSION)"
for tool in java mvn flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH (the tools need Java 17+ and Maven)"
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.kafka-tools-$kafka_version.lock"
flock 9
if [[ -f "$target/.complete" ]]; then
  echo "$target"
  exit 0
fi

# Holding the lock, any staging directory left here belongs to a run that was killed.
rm -rf "$cache_root/.kafka-tools-$kafka_version.tmp."*
work="$(mktemp -d "$cache_root/.kafka-tools-$kafka_version.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
stage="$work/kafka-tools-$kafka_version"
mkdir -p "$stage/libs"

# The same slf4j 1.x binding as the broker's install, so the tools log through log4j2 as well.
cat >"$work/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tickwire.localstack</groupId>
  <artifactId>kafka-tools-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
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
POM

log "fetching kafka-tools $kafka_version jars with Maven into $target"
mvn -q -B -f "$work/pom.xml" \
  "org.apache.maven.plugins:maven-dependency-plugin:$plugin_version:copy-dependencies" \
  -DincludeScope=runtime -DoutputDirectory="$stage/libs" >&2
[[ -f "$stage/libs/kafka-tools-$kafka_version.jar" ]] ||
  die "Maven finished but kafka-tools-$kafka_version.jar is missing from libs/"

touch "$stage/.complete"
if [[ -e "$target" ]]; then
  mv -T "$target" "$work/replaced"
fi
mv -T "$stage" "$target"
log "installed $(find "$target/libs" -name '*.jar' | wc -l) jars"
echo "$target"
