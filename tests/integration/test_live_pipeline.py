"""The walking skeleton through the live pipeline on a real broker: court event in, department
sanction out, with every piece (Avro, Faust agents, tables, repartition, feedback) real."""

from __future__ import annotations

import struct
from datetime import date

from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.schemas.codec import encode
from shixin.schemas.model_codec import encode_model
from tests.builders import corrected, entity_id, listed, person_id, shielded
from tests.integration.helpers import dead_letters, entry, feed, feed_raw, feedback, sanction

FLIGHTS = "consumption.flights"


async def test_person_on_two_entries_stays_sanctioned_until_both_are_gone(bootstrap, pipeline):
    settings, roles = pipeline
    p = person_id(101)
    await feed(
        bootstrap,
        settings,
        roles,
        [listed("A1", p), listed("A2", p, at="2024-03-12T09:00:00+08:00")],
    )
    row = sanction(roles, "aviation", p)
    assert row["state"] == "applied" and FLIGHTS in row["required"]
    assert row["entry_ids"] == ["A1", "A2"]

    await feed(bootstrap, settings, roles, [shielded("A1", "2024-04-01T10:00:00+08:00")])
    row = sanction(roles, "aviation", p)
    assert row["state"] == "applied", "one case ending must not lift the other case's sanctions"
    assert row["entry_ids"] == ["A2"]

    await feed(bootstrap, settings, roles, [shielded("A2", "2024-04-02T10:00:00+08:00")])
    row = sanction(roles, "aviation", p)
    assert row["state"] == "lifted" and row["enforced"] == []
    kinds = [
        (e.type, e.department)
        for e in await feedback(bootstrap, settings, p)
        if e.department == "aviation"
    ]
    assert kinds.count(("SanctionsLifted", "aviation")) == 1
    assert kinds[0] == ("SanctionsApplied", "aviation") and kinds[-1] == (
        "SanctionsLifted",
        "aviation",
    )


async def test_entity_legal_representative_is_restricted_from_flights(bootstrap, pipeline):
    settings, roles = pipeline
    company, boss = entity_id(202), person_id(202, date(1970, 1, 2))
    await feed(
        bootstrap,
        settings,
        roles,
        [
            listed(
                "B1",
                company,
                kind="entity",
                related=[{"role": "legal_representative", "id": boss, "name": "李四"}],
            )
        ],
    )
    assert FLIGHTS in sanction(roles, "aviation", boss)["required"]
    assert FLIGHTS in sanction(roles, "aviation", company)["required"]
    # exit restriction binds the debtor person only: neither the company nor its boss
    assert sanction(roles, "immigration", boss) is None
    assert sanction(roles, "immigration", company) is None
    assert roles.court.subjects.get(boss)["entries"]["B1"]["roles"] == ["legal_representative"]


async def test_correction_of_the_debtor_id_moves_the_sanctions(bootstrap, pipeline):
    settings, roles = pipeline
    wrong, right = person_id(303), person_id(304)
    await feed(bootstrap, settings, roles, [listed("C1", wrong)])
    assert sanction(roles, "aviation", wrong)["state"] == "applied"
    fix = corrected(
        "C1",
        {"subject": {"kind": "person", "id": right, "name": "张三"}},
        "2024-03-12T10:00:00+08:00",
    )
    await feed(bootstrap, settings, roles, [fix])
    assert sanction(roles, "aviation", wrong)["state"] == "lifted"
    assert sanction(roles, "aviation", right)["state"] == "applied"
    assert sanction(roles, "immigration", right)["state"] == "applied"
    assert entry(roles, "C1")["subject"]["id"] == right


async def test_a_duplicated_event_changes_nothing(bootstrap, pipeline):
    settings, roles = pipeline
    p = person_id(404)
    event = listed("D1", p)
    await feed(bootstrap, settings, roles, [event])
    before = (
        entry(roles, "D1"),
        sanction(roles, "aviation", p),
        len(await feedback(bootstrap, settings, p)),
    )
    await feed(bootstrap, settings, roles, [event])
    after = (
        entry(roles, "D1"),
        sanction(roles, "aviation", p),
        len(await feedback(bootstrap, settings, p)),
    )
    assert after == before
    reasons = [
        d["reason"]
        for d in await dead_letters(bootstrap, settings)
        if d["event_id"] == event["event_id"]
    ]
    assert len(reasons) == 1 and reasons[0].startswith(f"duplicate event {event['event_id']}")


async def test_bad_input_lands_in_dead_letters_and_stops_nothing(bootstrap, pipeline):
    settings, roles = pipeline
    good = COURT_EVENT_ADAPTER.validate_python(listed("E9", person_id(505)))
    body = encode_model(good)[10:]
    unknown_fingerprint = b"\xc3\x01" + struct.pack(">Q", 0x1122334455667788) + body
    bad_id = good.model_dump(mode="json")
    bad_id["subject"]["id"] = bad_id["subject"]["id"][:-1] + (
        "0" if bad_id["subject"]["id"][-1] != "0" else "1"
    )
    bad_checksum = encode("cn.shixin.court.v1.DebtorListed", bad_id)
    shield_first = encode_model(
        COURT_EVENT_ADAPTER.validate_python(shielded("E8", "2024-04-01T10:00:00+08:00"))
    )
    await feed_raw(
        bootstrap,
        settings,
        roles,
        [
            b"\x00\x01not avro at all",
            unknown_fingerprint,
            bad_checksum,
            shield_first,
            encode_model(good),
        ],
    )
    letters = await dead_letters(bootstrap, settings)
    reasons = [d["reason"] for d in letters]
    assert any("not Avro single-object encoding" in r for r in reasons)
    assert any("unknown writer schema fingerprint 0x1122334455667788" in r for r in reasons)
    assert any(
        r.startswith("invalid DebtorListed: subject: resident ID")
        and "check character should be" in r
        for r in reasons
    )
    assert any(r == "ListingShielded for entry E8, which was never listed" for r in reasons)
    assert all(d["topic"] == settings.topic_court_events for d in letters)
    # the valid event after all of them went through
    assert entry(roles, "E9")["state"] == "listed"
    assert sanction(roles, "aviation", person_id(505))["state"] == "applied"


async def test_manual_department_gets_a_pending_task(bootstrap, pipeline):
    settings, roles = pipeline
    p = person_id(606)
    await feed(bootstrap, settings, roles, [listed("F1", p)])
    row = sanction(roles, "education", p)
    assert row["state"] == "pending_apply" and row["enforced"] == []
    assert "consumption.private_school" in row["required"] or row["required"]
