#!/bin/bash
# One-shot job of deploy/docker-compose.yml: create shixin's public topics with their partitions,
# replication and retention. Kept in step with shixin.runtime.admin.topic_configs (the settings'
# topic names and what each topic keeps) by tests/deploy/test_compose.py.
# Faust creates its own internal topics (changelogs, repartition, assignor) when a role starts.
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:?set BOOTSTRAP to the host:port list of the brokers}"
PARTITIONS="${PARTITIONS:-8}"
REPLICATION="${REPLICATION:-3}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"

create() {
    local topic="$1"
    shift
    local configs=()
    for config in "$@"; do
        configs+=(--config "$config")
    done
    if [ "$REPLICATION" -ge 3 ]; then
        # a write is acknowledged once two replicas have it: one broker may fail at a time
        configs+=(--config min.insync.replicas=2)
    fi
    "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
        --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
        "${configs[@]}"
}

# the truth and the audit trail: kept forever
create court.events cleanup.policy=delete retention.ms=-1
create sanction.events cleanup.policy=delete retention.ms=-1
create department.confirmations cleanup.policy=delete retention.ms=-1
create sla.events cleanup.policy=delete retention.ms=-1
create shixin.access-log cleanup.policy=delete retention.ms=-1
# every record is the whole truth about one subject: the latest per subject is enough
create subject.status cleanup.policy=compact
# the original bytes stay on their own topics; a year to look into them
create shixin.dead-letters cleanup.policy=delete retention.ms=31536000000

"$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --list
echo "shixin topics ready"
