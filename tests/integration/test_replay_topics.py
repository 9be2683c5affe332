"""`shixin replay` straight from the topics: the same projections as the live tables, and
`--until` gives exactly the state after the last event before it."""

from __future__ import annotations

import json
from pathlib import Path

from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted, live_views
from tests.builders import listed, person_id, shielded
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import shixin
from tests.integration.helpers import feed, feed_raw


async def test_replay_from_topics_equals_the_live_tables(bootstrap, catalog, tmp_path: Path):
    settings = isolated_settings()
    env = settings_env(settings, bootstrap)
    p, q = person_id(2901), person_id(2902)
    role = "court,department:aviation,department:education"
    async with hosted(role, settings, bootstrap, catalog) as roles:
        await feed(bootstrap, settings, roles, [listed("H1", p), listed("H2", q)])
        await feed_raw(bootstrap, settings, roles, [b"\x00garbage"])
        await feed(bootstrap, settings, roles, [shielded("H2", "2024-04-01T10:00:00+08:00")])
        confirmed = shixin(
            "department", "confirm", "--department", "education", "--subject", p,
            "--action", "apply", "--at", "2024-03-15T09:00:00+08:00", env=env,
        )  # fmt: skip
        assert confirmed.returncode == 0, confirmed.stderr
        await wait_idle(bootstrap, roles, settings, timeout=60)
        now = "2024-04-02T00:00:00+08:00"
        from datetime import datetime

        live = await live_views(bootstrap, roles, settings, datetime.fromisoformat(now))

    out = tmp_path / "replayed"
    result = shixin("replay", "--dump", str(out), "--now", now, env=env)
    assert result.returncode == 0, result.stderr
    replayed = {f.stem: json.loads(f.read_text("utf-8")) for f in out.iterdir()}
    for view in ("entries", "subjects", "dead_letters", "findings"):
        assert replayed[view] == live[view], view
    for dept in ("aviation", "education"):
        assert replayed["sanctions"][dept] == live["sanctions"][dept], dept
    assert replayed["sanctions"]["education"][p]["state"] == "applied"  # the person's action
    assert len(replayed["dead_letters"]) == 1

    until = tmp_path / "until"
    before_shield = "2024-03-31T23:00:00+08:00"
    result = shixin("replay", "--dump", str(until), "--until", before_shield, env=env)
    assert result.returncode == 0, result.stderr
    entries = json.loads((until / "entries.json").read_text("utf-8"))
    assert entries["H2"]["state"] == "listed" and replayed["entries"]["H2"]["state"] == "shielded"
    sanctions = json.loads((until / "sanctions.json").read_text("utf-8"))
    assert sanctions["aviation"][q]["state"] == "applied"


async def test_audit_verify_finds_a_difference_planted_in_a_live_table(bootstrap, catalog):
    from aiokafka import AIOKafkaProducer

    from shixin.projections.queries import changelog_topic
    from shixin.streams.topics import key_bytes

    settings = isolated_settings()
    env = settings_env(settings, bootstrap)
    p = person_id(2951)
    async with hosted("court,department:aviation", settings, bootstrap, catalog) as roles:
        await feed(bootstrap, settings, roles, [listed("J1", p), listed("J2", person_id(2952))])
        await wait_idle(bootstrap, roles, settings, timeout=60)
        clean = shixin("audit", "verify", "--department", "aviation", env=env)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "no difference" in clean.stdout
        tampered = dict(roles.court.entries["J1"])
    # someone edits the live table behind the pipeline's back
    tampered["state"] = "revoked"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        from shixin.audit.replay import partition_for

        await producer.send_and_wait(
            changelog_topic(settings, "court", "entries"),
            key=key_bytes("J1"),
            value=json.dumps(tampered).encode(),
            partition=partition_for("J1", settings.partitions),
        )
    finally:
        await producer.stop()
    found = shixin("audit", "verify", "--department", "aviation", "--json", env=env)
    assert found.returncode == 1
    diffs = json.loads(found.stdout)["differences"]
    assert {"view": "entries", "key": "J1/state", "live": "revoked", "replay": "listed"} in diffs
