"""Archive export, verify and import (format: `shixin.audit.archive_format`).

Export reads every topic of the deployment (the public topics and every topic named after the
app prefix: changelogs, the repartition topic) with no consumer group, and the committed offsets
of the deployment's consumer groups, read first, so the topics hold at least what the offsets
promise. Import restores all of it into an empty broker: every record at its old partition and
offset, and the groups' offsets, so the roles restart where they were and rebuild their tables
from the changelogs. That is what makes the embedded broker's memory-only storage safe.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import fastavro
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shixin.audit.archive_format import (
    FORMAT,
    MANIFEST,
    RECORD_SCHEMA,
    TOPICS_DIR,
    KafkaRecord,
    archive_head,
    file_digest,
    from_avro,
    genesis,
    link,
    manifest_bytes,
    to_avro,
)
from shixin.runtime.groups import commit_offsets, committed_offsets
from shixin.runtime.logging import get_logger
from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.reader import read_topic
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.schemas.registry import default_registry
from shixin.streams.topics import public_topics

log = get_logger(__name__)

Progress = Callable[[str, int], None]  # (topic, records just done)
_FLUSH_EVERY = 5_000


class ArchiveError(Exception):
    """The archive cannot be used (or written) as asked; the message says why."""


# --- export ------------------------------------------------------------------------------------


async def deployment_topics(bootstrap: str, settings: Settings) -> dict[str, int]:
    """topic -> partitions, for every topic of this deployment that exists."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(settings))
    await admin.start()
    try:
        names = set(await admin.list_topics())
        wanted = sorted(
            n
            for n in names
            if n in public_topics(settings) or n.startswith(settings.app_prefix + "-")
        )
        described = await admin.describe_topics(wanted)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t.get("partitions")}


async def _group_offsets(
    bootstrap: str, settings: Settings, topics: dict[str, int]
) -> dict[str, dict[str, dict[str, int]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(settings))
    await admin.start()
    try:
        groups = sorted(
            g
            for g, _kind in await admin.list_consumer_groups()
            if g.startswith(settings.app_prefix)
        )
    finally:
        await admin.close()
    tps = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
    out: dict[str, dict[str, dict[str, int]]] = {}
    for group in groups:
        for tp, offset in (await committed_offsets(bootstrap, settings, group, tps)).items():
            out.setdefault(group, {}).setdefault(tp.topic, {})[str(tp.partition)] = offset
    return out


class _TopicWriter:
    """Writes one topic's day files, partition after partition (a partition's days only grow,
    so each partition's records stay in offset order across the files)."""

    def __init__(self, root: Path, topic: str) -> None:
        self.topic = topic
        self.folder = root / TOPICS_DIR / topic
        self.folder.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, dict[str, Any]] = {}
        self.heads: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self._pending: list[dict[str, Any]] = []
        self._pending_day: str | None = None

    def write_partition(self, partition: int, records: list[KafkaRecord]) -> None:
        prev = genesis(self.topic, partition)
        day = ""
        for record in records:
            day = max(day, record.day)
            if day != self._pending_day:
                self._flush()
                self._pending_day = day
            digest = link(prev, record)
            self._pending.append(to_avro(record, prev, digest))
            info = self.files.setdefault(day, {"day": day, "records": 0, "partitions": {}})
            info["records"] += 1
            span = info["partitions"].setdefault(str(partition), [record.offset, record.offset])
            span[1] = record.offset
            prev = digest
            if len(self._pending) >= _FLUSH_EVERY:
                self._flush()
        self._flush()
        if records:
            self.heads[str(partition)] = prev.hex()
            self.counts[str(partition)] = len(records)

    def _flush(self) -> None:
        if not self._pending:
            return
        assert self._pending_day is not None
        with (self.folder / f"{self._pending_day}.avro").open("a+b") as handle:
            fastavro.writer(handle, RECORD_SCHEMA, self._pending, codec="deflate")
        self._pending = []

    def manifest_entry(self, root: Path, partitions: int, ends: dict[str, int]) -> dict[str, Any]:
        files = []
        for day in sorted(self.files):
            info = self.files[day]
            path = self.folder / f"{day}.avro"
            files.append(
                {**info, "path": path.relative_to(root).as_posix(), "sha256": file_digest(path)}
            )
        return {
            "partitions": partitions,
            "end_offsets": ends,
            "records": self.counts,
            "heads": self.heads,
            "files": files,
        }


def _schemas() -> dict[str, Any]:
    """Every payload schema the project knows, so the archive stays readable without it."""
    registry = default_registry()
    return {
        v.fingerprint_hex: {"name": v.name, "schema": v.schema}
        for name in registry.names()
        for v in registry.versions(name)
    }


async def export_archive(
    bootstrap: str, settings: Settings, target: Path, progress: Progress | None = None
) -> dict[str, Any]:
    """Write the archive to `target` (which must not exist, or be empty); returns the manifest.

    Written beside `target` under a temporary name and renamed at the end, so an interruption
    leaves no half-written archive."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ArchiveError(f"{target} exists and is not an empty directory")
    work = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        topics = await deployment_topics(bootstrap, settings)
        groups = await _group_offsets(bootstrap, settings, topics)
        entries: dict[str, Any] = {}
        for topic, partitions in topics.items():
            writer = _TopicWriter(work, topic)
            ends: dict[str, int] = {}
            for partition in range(partitions):
                records = [
                    _from_consumer(r) async for r in read_topic(bootstrap, topic, [partition])
                ]
                ends[str(partition)] = records[-1].offset + 1 if records else 0
                writer.write_partition(partition, records)
                if progress is not None:
                    progress(topic, len(records))
            entries[topic] = writer.manifest_entry(work, partitions, ends)
        manifest = {
            "format": FORMAT,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "app_prefix": settings.app_prefix,
            "topics": entries,
            "groups": groups,
            "schemas": _schemas(),
        }
        (work / MANIFEST).write_bytes(manifest_bytes(manifest))
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("archive.exported", path=str(target), topics=len(entries), head=archive_head(manifest))
    return manifest


def _from_consumer(record: Any) -> KafkaRecord:
    return KafkaRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key=record.key,
        value=record.value,
        headers=tuple((k, v) for k, v in (record.headers or ())),
    )


# --- reading and verifying ---------------------------------------------------------------------


def load_manifest(root: Path) -> dict[str, Any]:
    import json

    path = root / MANIFEST
    if not path.is_file():
        raise ArchiveError(f"{root} is not an archive: no {MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_bytes())
    except ValueError as exc:
        raise ArchiveError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for row in fastavro.reader(handle):
            yield cast(dict[str, Any], row)


def archive_records(root: Path, topic: str) -> Iterator[KafkaRecord]:
    """A topic's records as archived, file after file (each partition in offset order)."""
    manifest = load_manifest(root)
    entry = manifest["topics"].get(topic)
    if entry is None:
        return
    for info in entry["files"]:
        for row in _rows(root / info["path"]):
            yield from_avro(row)[0]


@dataclass
class Verdict:
    head: str = ""
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_archive(root: Path, expected_head: str | None = None) -> Verdict:
    """Check every file's digest and every record's place in its partition's chain; name each
    record that was edited, removed, inserted or moved."""
    verdict = Verdict()
    try:
        manifest = load_manifest(root)
    except ArchiveError as exc:
        verdict.problems.append(str(exc))
        return verdict
    verdict.head = archive_head(manifest)
    if expected_head is not None and expected_head != verdict.head:
        verdict.problems.append(
            f"archive head {verdict.head} is not the expected {expected_head}: "
            "the manifest was rewritten"
        )
    listed = {info["path"] for e in manifest["topics"].values() for info in e["files"]}
    on_disk = {p.relative_to(root).as_posix() for p in (root / TOPICS_DIR).rglob("*.avro")}
    for extra in sorted(on_disk - listed):
        verdict.problems.append(f"{extra}: a file the manifest does not list")
    for topic, entry in sorted(manifest["topics"].items()):
        _verify_topic(root, topic, entry, verdict)
    return verdict


def _verify_topic(root: Path, topic: str, entry: dict[str, Any], verdict: Verdict) -> None:
    chain: dict[int, bytes] = {}
    last: dict[int, int] = {}
    counts: dict[int, int] = {}
    for info in entry["files"]:
        name = info["path"]
        path = root / name
        if not path.is_file():
            verdict.problems.append(f"{name}: missing")
            continue
        if file_digest(path) != info["sha256"]:
            verdict.problems.append(f"{name}: SHA-256 differs from the manifest's (file changed)")
        try:
            for number, row in enumerate(_rows(path), start=1):
                record, prev, stored = from_avro(row)
                p = record.partition
                where = f"{name} record #{number} (partition {p}, offset {record.offset})"
                verdict.records += 1
                counts[p] = counts.get(p, 0) + 1
                if record.topic != topic:
                    verdict.problems.append(f"{where}: belongs to topic {record.topic!r}")
                if link(prev, record) != stored:
                    verdict.problems.append(f"{where}: content does not match its hash (edited)")
                expected = chain.get(p, genesis(topic, p))
                if prev != expected:
                    after = f"offset {last[p]}" if p in last else "the partition's start"
                    verdict.problems.append(
                        f"{where}: does not follow the record before it ({after}): "
                        "a record was removed, inserted or moved"
                    )
                elif p in last and record.offset <= last[p]:
                    verdict.problems.append(f"{where}: offset not after {last[p]}")
                chain[p] = stored
                last[p] = record.offset
        except (ValueError, EOFError, OSError, TypeError, KeyError) as exc:
            verdict.problems.append(f"{name}: unreadable ({exc})")
    for p_text, head in sorted(entry["heads"].items()):
        p = int(p_text)
        if chain.get(p, b"").hex() != head:
            verdict.problems.append(
                f"{topic} partition {p}: its last record is not the one the manifest names "
                "(records removed or added at the end)"
            )
        if counts.get(p, 0) != entry["records"].get(p_text, 0):
            verdict.problems.append(
                f"{topic} partition {p}: {counts.get(p, 0)} records, "
                f"the manifest says {entry['records'].get(p_text, 0)}"
            )


# --- import ------------------------------------------------------------------------------------


async def import_archive(
    root: Path, bootstrap: str, settings: Settings, progress: Progress | None = None
) -> dict[str, Any]:
    """Restore the archive into a broker whose topics of the same names are missing or empty."""
    verdict = verify_archive(root)
    if not verdict.ok:
        raise ArchiveError(
            f"{root} does not verify ({len(verdict.problems)} problem(s)); first: "
            + verdict.problems[0]
        )
    manifest = load_manifest(root)
    topics: dict[str, int] = {t: e["partitions"] for t, e in manifest["topics"].items()}
    await _create_empty(bootstrap, settings, topics)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        **client_options(settings),
    )
    await producer.start()
    try:
        for topic, entry in sorted(manifest["topics"].items()):
            for info in entry["files"]:
                batch: list[tuple[KafkaRecord, Any]] = []
                for row in _rows(root / info["path"]):
                    record = from_avro(row)[0]
                    future = await producer.send(
                        topic,
                        value=record.value,
                        key=record.key,
                        partition=record.partition,
                        timestamp_ms=record.timestamp_ms,
                        headers=list(record.headers) or None,
                    )
                    batch.append((record, future))
                    if len(batch) >= 2_000:
                        await _landed(batch, progress)
                await _landed(batch, progress)
    finally:
        await producer.stop()
    await _commit_groups(bootstrap, settings, manifest["groups"])
    log.info("archive.imported", path=str(root), records=verdict.records, head=verdict.head)
    return manifest


async def _create_empty(bootstrap: str, settings: Settings, topics: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [t for t in topics if t in existing]
        if present:
            described = await admin.describe_topics(present)
            tps = [
                TopicPartition(t["topic"], p["partition"])
                for t in described
                for p in t["partitions"]
            ]
            ends = await fetched_end_offsets(bootstrap, tps)
            full = sorted({tp.topic for tp, end in ends.items() if end > 0})
            if full:
                raise ArchiveError(
                    f"the broker already holds records in {', '.join(full)}: "
                    "import restores into empty topics only"
                )
            for t in described:
                if len(t["partitions"]) != topics[t["topic"]]:
                    raise ArchiveError(
                        f"topic {t['topic']} has {len(t['partitions'])} partitions, "
                        f"the archive {topics[t['topic']]}"
                    )
        missing = [t for t in topics if t not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(t, topics[t], settings.replication_factor) for t in missing]
            )
    finally:
        await admin.close()


async def _landed(batch: list[tuple[KafkaRecord, Any]], progress: Progress | None) -> None:
    if not batch:
        return
    for record, future in batch:
        meta = await future
        if meta.offset != record.offset:
            raise ArchiveError(
                f"{record.topic} partition {record.partition}: the record archived at offset "
                f"{record.offset} landed at {meta.offset}; positions would change"
            )
    if progress is not None:
        progress(batch[0][0].topic, len(batch))
    batch.clear()


async def _commit_groups(
    bootstrap: str, settings: Settings, groups: dict[str, dict[str, dict[str, int]]]
) -> None:
    for group, topics in sorted(groups.items()):
        offsets = {
            TopicPartition(t, int(p)): offset
            for t, partitions in topics.items()
            for p, offset in partitions.items()
        }
        await commit_offsets(bootstrap, settings, group, offsets)
