"""The archive's format: Avro object container files of Kafka records, chained by SHA-256.

An archive directory holds ``manifest.json`` and ``topics/<topic>/<YYYY-MM-DD>.avro``: one
object container file (schema embedded) per topic and day. Every record carries the exact bytes
Kafka held (key, value, headers, timestamp) and its position, so an import gives every record
its old partition and offset back, and the pipeline's positions (dedupe, dead letters) hold.

Tamper evidence: each partition's records form a hash chain, ``hash = SHA-256(prev || body)``,
``body`` the Avro binary encoding of the record without its hashes. Editing a record breaks its
own hash; dropping, inserting or reordering one breaks the next record's link. The manifest holds
every chain's last hash and the SHA-256 of every file, and its own digest, the archive head, is
what an auditor records elsewhere: an archive rewritten end to end has another head.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastavro import parse_schema, schemaless_writer

FORMAT = "shixin-archive/1"
MANIFEST = "manifest.json"
TOPICS_DIR = "topics"
CST = timezone(timedelta(hours=8))

_HEADER = {
    "type": "record",
    "name": "Header",
    "fields": [{"name": "key", "type": "string"}, {"name": "value", "type": ["null", "bytes"]}],
}
_BODY_FIELDS: list[dict[str, Any]] = [
    {"name": "topic", "type": "string"},
    {"name": "partition", "type": "int"},
    {"name": "offset", "type": "long"},
    # milliseconds since the epoch, as Kafka keeps it (a plain long: exact both ways)
    {"name": "timestamp_ms", "type": "long"},
    {"name": "key", "type": ["null", "bytes"]},
    {"name": "value", "type": ["null", "bytes"]},
    {"name": "headers", "type": {"type": "array", "items": _HEADER}},
]
#: What the hash covers: the record as Kafka held it, at its position.
BODY_SCHEMA = parse_schema(
    {"type": "record", "name": "Body", "namespace": "cn.shixin.archive.v1", "fields": _BODY_FIELDS}
)
#: The container files' schema: the body and its two links of the chain.
RECORD_SCHEMA = parse_schema(
    {
        "type": "record",
        "name": "Record",
        "namespace": "cn.shixin.archive.v1",
        "doc": "One Kafka record, as held by the broker, in a SHA-256 chain per partition",
        "fields": [
            *_BODY_FIELDS,
            {"name": "prev_hash", "type": {"type": "fixed", "name": "Sha256", "size": 32}},
            {"name": "hash", "type": "Sha256"},
        ],
    }
)


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def day(self) -> str:
        """The record's day in China Standard Time, as the archive files are named."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, CST).date().isoformat()


def genesis(topic: str, partition: int) -> bytes:
    """The link before a partition's first record."""
    return hashlib.sha256(f"{FORMAT}:{topic}:{partition}".encode()).digest()


def _body(record: KafkaRecord) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp_ms,
        "key": record.key,
        "value": record.value,
        "headers": [{"key": k, "value": v} for k, v in record.headers],
    }


def link(prev: bytes, record: KafkaRecord) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, BODY_SCHEMA, _body(record))
    return hashlib.sha256(prev + buffer.getvalue()).digest()


def to_avro(record: KafkaRecord, prev: bytes, digest: bytes) -> dict[str, Any]:
    return {**_body(record), "prev_hash": prev, "hash": digest}


def from_avro(row: dict[str, Any]) -> tuple[KafkaRecord, bytes, bytes]:
    """The record, and the links it carries (prev_hash, hash)."""
    record = KafkaRecord(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        timestamp_ms=row["timestamp_ms"],
        key=row["key"],
        value=row["value"],
        headers=tuple((h["key"], h["value"]) for h in row["headers"]),
    )
    return record, row["prev_hash"], row["hash"]


def file_digest(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest's canonical bytes: what is written, and what the archive head digests."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def archive_head(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()
