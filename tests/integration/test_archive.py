"""The archive: export from a live deployment, lose the broker, import into an empty one, carry
on; and every edit, removal or move of a record in an archive is found and named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import fastavro
import pytest

from shixin.audit.archive import ArchiveError, export_archive, import_archive, verify_archive
from shixin.audit.archive_format import MANIFEST, RECORD_SCHEMA, archive_head, link
from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER, event_time
from shixin.runtime.broker import EmbeddedBroker
from shixin.runtime.catalogs import get_policy
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted, live_views
from shixin.streams.publish import publish_events
from shixin.synthetic import generate_history
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import shixin

ROLE = "court,sla,department:aviation,department:rail,department:education,department:hotels"
DEPARTMENTS = ("aviation", "rail", "education", "hotels")


def _comparable(views: dict[str, Any]) -> dict[str, Any]:
    """The views a deployment of ROLE holds: every one but other departments' sanctions."""
    out = {k: v for k, v in views.items() if k not in ("sanctions", "obligations")}
    out["sanctions"] = {d: views["sanctions"].get(d, {}) for d in DEPARTMENTS}
    out["obligations"] = {
        k: o
        for k, o in views["obligations"].items()
        if o["kind"] != "department_lift" or o["department"] in DEPARTMENTS
    }
    return out


@pytest.fixture(scope="module")
async def lost_and_restored(catalog, tmp_path_factory) -> dict[str, Any]:
    """Half a history through the live pipeline on broker A; export while it runs; A is lost;
    B starts empty, the archive is imported, the roles restart on B and the rest flows."""
    history = list(generate_history(40, seed=23))
    events = [ANY_EVENT_ADAPTER.validate_python(e) for e in history]
    half = len(events) // 2
    settings = isolated_settings()
    root = tmp_path_factory.mktemp("archive") / "export"
    with EmbeddedBroker() as first:
        async with hosted(ROLE, settings, first.bootstrap, catalog) as roles:
            await publish_events(first.bootstrap, settings, events[:half])
            await wait_idle(first.bootstrap, roles, settings, timeout=120)
            # a backup taken while the roles run: offsets may trail the tables
            manifest = await export_archive(first.bootstrap, settings, root)
    with EmbeddedBroker() as second:
        await import_archive(root, second.bootstrap, settings)
        async with hosted(ROLE, settings, second.bootstrap, catalog) as roles:
            await publish_events(second.bootstrap, settings, events[half:])
            await wait_idle(second.bootstrap, roles, settings, timeout=120)
            now = max(event_time(e) for e in events)
            live = await live_views(second.bootstrap, roles, settings, now)
        second_env = settings_env(settings, second.bootstrap)
        from_topics = tmp_path_factory.mktemp("from-topics")
        replayed = shixin("replay", "--dump", str(from_topics), env=second_env)
        assert replayed.returncode == 0, replayed.stderr
    offline = Replay(settings, catalog, get_policy(settings.deadline_policy))
    offline.feed_lines(json.dumps(e) for e in history)
    return {
        "settings": settings,
        "root": root,
        "manifest": manifest,
        "live": live,
        "offline": offline.views(now),
        "from_topics": {f.stem: json.loads(f.read_text("utf-8")) for f in from_topics.iterdir()},
        "events": len(events),
        "half": half,
    }


def test_after_broker_loss_and_import_the_live_tables_equal_a_replay(lost_and_restored):
    live, offline = lost_and_restored["live"], lost_and_restored["offline"]
    assert _comparable(live) == _comparable(offline)
    # not trivially equal: the history lists people and departments sanctioned them
    assert any(e["state"] == "listed" for e in live["entries"].values())
    assert any(r["state"] == "applied" for r in live["sanctions"]["aviation"].values())
    assert _comparable(lost_and_restored["from_topics"]) == _comparable(offline)


def test_export_holds_every_court_event_and_the_groups_offsets(lost_and_restored):
    manifest = lost_and_restored["manifest"]
    settings = lost_and_restored["settings"]
    court = manifest["topics"][settings.topic_court_events]
    assert sum(court["records"].values()) == lost_and_restored["half"]
    assert f"{settings.app_prefix}-court" in manifest["groups"]
    assert any(t.endswith("-changelog") for t in manifest["topics"])
    verdict = verify_archive(lost_and_restored["root"])
    assert verdict.ok, verdict.problems
    assert verdict.head == archive_head(manifest)


def test_replay_of_an_archive_equals_replay_of_its_topics(lost_and_restored, tmp_path: Path):
    settings = lost_and_restored["settings"]
    out = tmp_path / "dump"
    env = settings_env(settings, "127.0.0.1:1")  # never reached: an archive needs no broker
    result = shixin("replay", str(lost_and_restored["root"]), "--dump", str(out), env=env)
    assert result.returncode == 0, result.stderr
    replayed = {f.stem: json.loads(f.read_text("utf-8")) for f in out.iterdir()}
    offline = Replay(settings, _catalog(), get_policy(settings.deadline_policy))
    half = lost_and_restored["half"]
    offline.feed_lines(
        json.dumps(e) for i, e in enumerate(generate_history(40, seed=23)) if i < half
    )
    assert replayed["entries"] == offline.views()["entries"]
    assert replayed["sanctions"]["rail"] == offline.views()["sanctions"]["rail"]


def _catalog() -> Any:
    from shixin.runtime.catalogs import get_catalog

    return get_catalog()


# --- tampering ---------------------------------------------------------------------------------


def _copy(lost_and_restored: dict[str, Any], tmp_path: Path) -> tuple[Path, str]:
    """A copy of the archive, and its court.events file with the most records."""
    root = tmp_path / "copy"
    shutil.copytree(lost_and_restored["root"], root)
    court = lost_and_restored["manifest"]["topics"][
        lost_and_restored["settings"].topic_court_events
    ]
    biggest = max(court["files"], key=lambda f: f["records"])
    return root, biggest["path"]


def _rewrite(path: Path, change: Any) -> None:
    with path.open("rb") as handle:
        rows = list(fastavro.reader(handle))
    rows = change(rows)
    with path.open("wb") as handle:
        fastavro.writer(handle, RECORD_SCHEMA, rows, codec="deflate")


def test_an_edited_record_is_named(lost_and_restored, tmp_path: Path):
    root, name = _copy(lost_and_restored, tmp_path)

    def edit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[3]["value"] = rows[3]["value"].replace(b"2", b"3", 1)
        return rows

    _rewrite(root / name, edit)
    problems = verify_archive(root).problems
    assert any(f"{name} record #4" in p and "edited" in p for p in problems), problems
    assert any("SHA-256 differs" in p for p in problems)
    result = shixin("archive", "verify", str(root))
    assert result.returncode == 1 and "record #4" in result.stdout


def test_a_dropped_record_is_named(lost_and_restored, tmp_path: Path):
    root, name = _copy(lost_and_restored, tmp_path)
    dropped: dict[str, Any] = {}

    def drop(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        dropped.update(rows[5])
        return rows[:5] + rows[6:]

    _rewrite(root / name, drop)
    problems = verify_archive(root).problems
    # the record after the gap no longer follows the one before it
    assert any(
        f"{name} record #6" in p and f"offset {dropped['offset'] - 1})" in p and "removed" in p
        for p in problems
    ), problems


def test_swapped_records_are_named(lost_and_restored, tmp_path: Path):
    root, name = _copy(lost_and_restored, tmp_path)

    def swap(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # two neighbours of one partition
        i = next(
            i for i in range(len(rows) - 1) if rows[i]["partition"] == rows[i + 1]["partition"]
        )
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
        swap.at = i + 1  # type: ignore[attr-defined]
        return rows

    _rewrite(root / name, swap)
    problems = verify_archive(root).problems
    at = swap.at  # type: ignore[attr-defined]
    assert any(f"record #{at} " in p and "moved" in p for p in problems), problems
    assert any(f"record #{at + 1} " in p and "moved" in p for p in problems), problems


def test_an_archive_rewritten_end_to_end_has_another_head(lost_and_restored, tmp_path: Path):
    """Whoever edits a record and recomputes its chain and the file's digest still changes the
    archive head an auditor recorded at export."""
    from shixin.audit.archive_format import file_digest, from_avro, manifest_bytes

    root, name = _copy(lost_and_restored, tmp_path)

    def forge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["value"] = rows[0]["value"] + b"\x00"
        chain: dict[int, bytes] = {}
        for row in rows:
            record, _, _ = from_avro(row)
            prev = chain.get(record.partition, row["prev_hash"])
            row["prev_hash"], row["hash"] = prev, link(prev, record)
            chain[record.partition] = row["hash"]
        return rows

    _rewrite(root / name, forge)
    manifest = json.loads((root / MANIFEST).read_text("utf-8"))
    for entry in manifest["topics"].values():
        for info in entry["files"]:
            if info["path"] == name:
                info["sha256"] = file_digest(root / name)
    (root / MANIFEST).write_bytes(manifest_bytes(manifest))
    assert not any("SHA-256" in p for p in verify_archive(root).problems)
    original = archive_head(lost_and_restored["manifest"])
    verdict = verify_archive(root, expected_head=original)
    assert any("is not the expected" in p for p in verdict.problems), verdict.problems
    result = shixin("archive", "verify", str(root), "--head", original)
    assert result.returncode == 1 and "rewritten" in result.stdout


async def test_import_refuses_a_broker_that_holds_the_topics(lost_and_restored, bootstrap):
    settings = lost_and_restored["settings"]
    with EmbeddedBroker() as target:
        await import_archive(lost_and_restored["root"], target.bootstrap, settings)
        with pytest.raises(ArchiveError, match="already holds records"):
            await import_archive(lost_and_restored["root"], target.bootstrap, settings)


async def test_an_interrupted_export_leaves_nothing(bootstrap, tmp_path: Path):
    from shixin.runtime.admin import ensure_topics
    from tests.builders import listed, person_id

    settings = isolated_settings()
    await ensure_topics(bootstrap, settings)
    events = [
        ANY_EVENT_ADAPTER.validate_python(listed(f"X{i}", person_id(3100 + i))) for i in range(3)
    ]
    await publish_events(bootstrap, settings, events)
    target = tmp_path / "backup"

    def interrupt(topic: str, count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await export_archive(bootstrap, settings, target, interrupt)
    assert list(tmp_path.iterdir()) == []
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    with pytest.raises(ArchiveError, match="not an empty directory"):
        await export_archive(bootstrap, settings, occupied)
