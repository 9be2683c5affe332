"""The HTTP API through real HTTP against the live pipeline on the broker: every endpoint, with
and without the right token. Answers are compared with what the CLI's functions give from the
broker (`shixin query subject`, `shixin check`, `shixin query obligations` / `sla`)."""

from __future__ import annotations

import gc
import json
from datetime import date, datetime

import pytest

from shixin.domain.deadlines import local_date
from shixin.projections.dumps import cst
from shixin.projections.queries import check_subject, subject_view
from shixin.projections.sla_report import monitored_obligations, select, summary
from shixin.runtime.reader import read_topic
from shixin.web.role import ApiRole
from tests.api_live import LiveApi, live_api_fixture  # noqa: F401
from tests.builders import entity_id, listed, performed, person_id, shielded, warned

P, BOSS, HIDDEN, GONE = person_id(1101), person_id(1103), person_id(1104), person_id(1105)
COMPANY = entity_id(1102)
NOW = "2024-06-01T12:00:00+08:00"


@pytest.fixture(scope="module")
async def world(live_api: LiveApi) -> LiveApi:
    await live_api.intake(
        [
            warned("A1"),
            listed("A1", P),
            listed(
                "A2",
                COMPANY,
                kind="entity",
                related=[{"role": "legal_representative", "id": BOSS, "name": "李四"}],
            ),
            {**listed("A3", HIDDEN), "public": False},
            listed("A4", GONE),
            warned("A5"),
        ]
    )
    # education is manual: a person applies its measure to A4's debtor, and nobody lifts it
    status, _ = await live_api.call(
        "POST",
        "/v1/departments/education/confirmations",
        "education",
        json={"subject_id": GONE, "action": "apply", "at": "2024-03-12T10:00:00+08:00"},
    )
    assert status == 202
    await live_api.settle()
    await live_api.intake(
        [
            performed("A4", "2024-04-01T10:00:00+08:00"),
            shielded("A4", "2024-04-02T10:00:00+08:00"),
        ]
    )
    return live_api


# --- reads: the same answers as the CLI -----------------------------------------------------


async def test_subject_is_what_query_subject_gives(world: LiveApi):
    status, body = await world.call("GET", f"/v1/subjects/{P}", "auditor")
    assert status == 200
    assert body == await subject_view(world.bootstrap, world.settings, P)
    assert body["subject"]["active_entry_ids"] == ["A1"]
    assert body["sanctions"]["aviation"]["state"] == "applied"
    assert body["sanctions"]["education"]["state"] == "pending_apply"
    status, body = await world.call("GET", f"/v1/subjects/{person_id(1999)}", "auditor")
    assert status == 404 and "not known" in body["error"]


async def test_entry_is_the_whole_entry(world: LiveApi):
    status, body = await world.call("GET", "/v1/entries/A2", "auditor")
    assert status == 200
    assert body["state"] == "listed" and body["subject"]["id"] == COMPANY
    assert body["related_persons"][0]["id"] == BOSS
    assert (await world.call("GET", "/v1/entries/nope", "auditor"))[0] == 404


async def test_check_is_what_shixin_check_gives(world: LiveApi):
    today = local_date(datetime.now().astimezone())
    for subject, action, allowed in [
        (P, "air.ticket", False),
        (BOSS, "air.ticket", False),  # the legal representative of a listed company
        (GONE, "air.ticket", True),  # shielded: allowed again
        (person_id(1998), "rail.g_train", True),  # never listed
    ]:
        status, body = await world.call(
            "GET", f"/v1/check?subject_id={subject}&action={action}", "auditor"
        )
        assert status == 200
        cli = await check_subject(world.bootstrap, world.settings, subject, action, today)
        assert body == cli.model_dump(mode="json")
        assert body["allowed"] is allowed
    status, body = await world.call("GET", f"/v1/check?subject_id={P}&action=fly.away", "auditor")
    assert status == 400 and "fly.away" in body["error"]
    assert (await world.call("GET", "/v1/check?action=air.ticket", "auditor"))[0] == 400


async def test_obligations_breaches_and_sla_are_what_the_cli_gives(world: LiveApi):
    now = datetime.fromisoformat(NOW)
    held = await monitored_obligations(world.bootstrap, world.settings)
    status, page = await world.call("GET", "/v1/obligations", "operator", params={"now": NOW})
    assert status == 200
    rows = page["items"]
    expected = [
        {
            **o.model_dump(mode="json"),
            "opened_at": cst(o.opened_at),
            "closed_at": cst(o.closed_at),
            "verdict": o.judged(now),
        }
        for o in select(held, now)
    ]
    assert rows == expected and page["total"] == len(expected)
    assert (page["page"], page["page_size"]) == (1, 100)
    # paged: the same rows, two at a time, and past the end an empty page of the same total
    pages = [
        (await world.call("GET", "/v1/obligations", "operator", params=params))[1]
        for params in (
            {"now": NOW, "page_size": "2", "page": str(n)}
            for n in range(1, (len(expected) + 1) // 2 + 2)
        )
    ]
    assert [r for p in pages for r in p["items"]] == expected
    assert {p["total"] for p in pages} == {len(expected)} and pages[-1]["items"] == []
    kinds = {(r["kind"], r["department"], r["verdict"]) for r in rows}
    assert ("court_exit", None, "met") in kinds
    assert ("department_lift", "aviation", "met") in kinds
    # education is manual: nobody confirmed the lift of A4's debtor, two months on
    assert ("department_lift", "education", "breached") in kinds

    status, breaches = await world.call("GET", "/v1/breaches", "auditor", params={"now": NOW})
    assert status == 200 and breaches["items"] == [r for r in rows if r["verdict"] == "breached"]
    status, only = await world.call(
        "GET", "/v1/obligations", "operator", params={"now": NOW, "status": "met"}
    )
    assert status == 200 and {r["verdict"] for r in only["items"]} == {"met"}
    status, body = await world.call("GET", "/v1/sla", "operator", params={"now": NOW})
    assert status == 200 and body == summary(held, now)
    assert body["departments"]["education"]["breached"] == 1
    # RFC 3339 only, as the OpenAPI document says (schemathesis found a bare number taken as
    # seconds since 1970, and a date alone was taken too)
    for text in ("yesterday", "350583", "2026-01-01", "2026-01-01T08:00:00"):
        bad = await world.call("GET", "/v1/sla", "operator", params={"now": text})
        assert bad[0] == 400, text
    utc = await world.call("GET", "/v1/sla", "operator", params={"now": "2024-06-01T04:00:00Z"})
    assert utc == (200, body)
    bad = await world.call("GET", "/v1/obligations", "operator", params={"status": "late"})
    assert bad[0] == 400
    bad = await world.call("GET", "/v1/breaches", "operator", params={"page_size": "1001"})
    assert bad[0] == 400


async def test_health_and_readiness(world: LiveApi):
    assert await world.call("GET", "/healthz") == (200, {"status": "ok"})
    status, body = await world.call("GET", "/readyz")
    assert status == 200 and body["ready"] is True and set(body["lag"].values()) == {0}


async def test_metrics(world: LiveApi):
    await world.call("GET", f"/v1/check?subject_id={P}&action=air.ticket", "aviation")
    assert world.roles.api is not None and world.roles.api.poller is not None
    await world.roles.api.poller.poll()  # now, not in up to 5 s
    status, text = await world.call("GET", "/metrics", "operator")
    assert status == 200
    lines = text.splitlines()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("shixin_")
    }
    court_events = world.settings.topic_court_events
    published = await _court_event_count(world)
    assert values[f'shixin_topic_messages{{topic="{court_events}"}}'] == published
    processed = values[f'shixin_events_processed{{group="court",topic="{court_events}"}}']
    lag = values[f'shixin_consumer_lag{{group="court",topic="{court_events}"}}']
    # processed and lag both come from committed offsets, so they always add up
    assert processed + lag == published and processed > 0
    assert any(line.startswith("shixin_dead_letters ") for line in lines)
    assert any(
        line.startswith('shixin_checks_total{action="air.ticket",result="blocked"}')
        for line in lines
    )
    assert any(line.startswith('shixin_deadlines{kind="department_lift"') for line in lines)
    assert "shixin_replica_ready 1.0" in lines
    # every check answered counted, and every request to the route timed (errors too)
    checked = sum(v for k, v in values.items() if k.startswith("shixin_checks_total{"))
    answered = values['shixin_http_requests_total{route="/v1/check",status="200"}']
    requested = sum(
        v for k, v in values.items() if k.startswith('shixin_http_requests_total{route="/v1/check"')
    )
    timed = values['shixin_http_request_seconds_bucket{le="+Inf",route="/v1/check"}']
    assert checked == answered > 0 and timed == requested >= answered
    assert (await world.call("GET", "/metrics"))[0] == 401
    assert (await world.call("GET", "/metrics", "court"))[0] == 403


# --- writes ---------------------------------------------------------------------------------


async def _court_event_count(world: LiveApi) -> int:
    return len([r async for r in read_topic(world.bootstrap, world.settings.topic_court_events)])


async def test_intake_validates_as_publish_and_publishes_nothing_when_any_is_bad(world: LiveApi):
    before = await _court_event_count(world)
    good = listed("B1", person_id(1201))
    bad_id = listed("B2", person_id(1202)[:-1] + ("1" if person_id(1202)[-1] != "1" else "2"))
    unknown = {**listed("B3", person_id(1203)), "type": "DebtorVanished"}
    confirmation = {
        "event_id": "7b0ae4a2-54c4-4a31-9d7c-3f1f2a7d9b10",
        "type": "SanctionsApplied",
        "department": "education",
        "subject_id": P,
        "measures": [],
        "at": NOW,
        "origin": "person",
    }
    status, body = await world.call(
        "POST", "/v1/court/events", "court", json=[good, bad_id, unknown, confirmation]
    )
    assert status == 422
    reasons = {p["line"]: p["reason"] for p in body["problems"]}
    assert set(reasons) == {2, 3, 4}
    assert reasons[2].startswith("invalid DebtorListed: subject: resident ID")
    assert "check character should be" in reasons[2]
    assert reasons[3].startswith("invalid event: unknown event type 'DebtorVanished'")
    assert "not a court event" in reasons[4]
    # JSON Lines, as `shixin publish` reads a file: the same reasons, with the same numbers
    ndjson = "\n".join(json.dumps(e) for e in [good, bad_id]) + "\n{not json\n"
    status, body = await world.call(
        "POST",
        "/v1/court/events",
        "court",
        data=ndjson.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert status == 422
    assert [p["line"] for p in body["problems"]] == [2, 3]
    assert body["problems"][1]["reason"].startswith("not JSON")
    for payload in ({"not": "a list"}, []):
        assert (await world.call("POST", "/v1/court/events", "court", json=payload))[0] == 422
    assert await _court_event_count(world) == before

    assert (await world.call("POST", "/v1/court/events", json=[good]))[0] == 401
    assert (await world.call("POST", "/v1/court/events", "auditor", json=[good]))[0] == 403
    assert (await world.call("POST", "/v1/court/events", "aviation", json=[good]))[0] == 403
    accepted = await world.intake([good])
    assert accepted == [good["event_id"]]
    assert await _court_event_count(world) == before + 1
    assert world.roles.court is not None and world.roles.court.entries.get("B1") is not None


async def test_a_manual_department_confirms_its_task(world: LiveApi):
    path = f"/v1/departments/education/sanctions/{P}"
    status, row = await world.call("GET", path, "education")
    assert status == 200 and row["state"] == "pending_apply"
    confirm = {"subject_id": P, "action": "apply", "at": "2024-03-12T09:00:00+08:00"}
    url = "/v1/departments/education/confirmations"
    assert (await world.call("POST", url, json=confirm))[0] == 401
    assert (await world.call("POST", url, "aviation", json=confirm))[0] == 403
    assert (await world.call("POST", url, "auditor", json=confirm))[0] == 403
    bad = {"subject_id": P, "action": "retain"}
    status, body = await world.call("POST", url, "education", json=bad)
    assert status == 422 and "legal basis" in body["error"]
    status, body = await world.call("POST", url, "education", json={**confirm, "action": "x"})
    assert status == 422 and "action" in body["error"]
    status, body = await world.call("POST", url, "education", json=confirm)
    assert status == 202 and len(body["accepted"]) == 1
    await world.settle()
    status, row = await world.call("GET", path, "education")
    assert status == 200 and row["state"] == "applied"
    assert row["enforced"] == ["consumption.private_schools"]


# --- access control -------------------------------------------------------------------------

PROTECTED = [
    ("GET", f"/v1/subjects/{P}", {"auditor"}),
    ("GET", "/v1/entries/A1", {"auditor"}),
    ("GET", f"/v1/check?subject_id={P}&action=air.ticket", {"auditor", "aviation"}),
    ("GET", "/v1/obligations", {"auditor", "operator", "aviation", "rail", "education"}),
    ("GET", "/v1/breaches", {"auditor", "operator", "aviation", "rail", "education"}),
    ("GET", "/v1/sla", {"auditor", "operator"}),
    ("GET", "/v1/departments/aviation/sanctions", {"auditor", "aviation"}),
    ("GET", f"/v1/departments/aviation/sanctions/{P}", {"auditor", "aviation"}),
    ("GET", "/v1/access-log", {"auditor"}),
    ("GET", "/v1/dashboard", {"auditor", "operator"}),
    ("GET", "/metrics", {"auditor", "operator"}),
]
HOLDERS = ["auditor", "operator", "court", "aviation", "rail", "education"]


async def test_every_protected_endpoint_wants_the_right_token(world: LiveApi):
    for method, path, allowed in PROTECTED:
        assert (await world.call(method, path))[0] == 401, path
        status, _ = await world.call(method, path, headers={"Authorization": "Bearer not-a-token"})
        assert status == 401, path
        for holder in HOLDERS:
            status, body = await world.call(method, path, holder)
            expected = 200 if holder in allowed else 403
            assert status == expected, (path, holder, body)
    # open to all
    for path in ("/healthz", "/readyz", "/v1/openapi.json", "/", "/v1/public/entries"):
        assert (await world.call("GET", path))[0] == 200, path


async def test_a_department_reads_only_its_own_sanctions(world: LiveApi):
    status, page = await world.call("GET", "/v1/departments/aviation/sanctions", "aviation")
    assert status == 200 and P in {row["subject_id"] for row in page["items"]}
    assert {row["department"] for row in page["items"]} == {"aviation"}
    for path in (
        "/v1/departments/rail/sanctions",
        f"/v1/departments/rail/sanctions/{P}",
        f"/v1/subjects/{P}",
        "/v1/obligations?department=rail",
        f"/v1/check?subject_id={P}&action=rail.g_train",
    ):
        status, body = await world.call("GET", path, "aviation")
        assert status == 403, (path, body)
    status, page = await world.call("GET", "/v1/obligations", "aviation", params={"now": NOW})
    rows = page["items"]
    assert status == 200 and rows and {r["department"] for r in rows} == {"aviation"}
    status, page = await world.call(
        "GET", "/v1/departments/aviation/sanctions", "aviation", params={"state": "lifted"}
    )
    assert status == 200 and [r["subject_id"] for r in page["items"]] == [GONE]
    status, _ = await world.call("GET", "/v1/departments/nowhere/sanctions", "auditor")
    assert status == 404


async def test_every_read_of_personal_data_is_in_the_access_log(world: LiveApi):
    marker = person_id(1301)
    await world.call("GET", f"/v1/check?subject_id={marker}&action=air.ticket", "aviation")
    await world.call("GET", f"/v1/subjects/{P}", "auditor")
    await world.call("GET", f"/v1/departments/aviation/sanctions/{P}", "aviation")
    await world.call("GET", "/v1/public/entries", params={"id_number": P})  # public: not logged
    await world.settle()
    status, body = await world.call("GET", "/v1/access-log", "auditor", params={"subject": marker})
    assert status == 200
    [record] = body["records"]
    assert record["who"] == "aviation-test" and record["role"] == "department:aviation"
    assert record["path"] == "/v1/check" and record["subjects"] == [marker]
    assert datetime.fromisoformat(record["at"]).tzinfo is not None
    status, body = await world.call(
        "GET", "/v1/access-log", "auditor", params={"subject": P, "who": "aviation-test"}
    )
    assert [r["path"] for r in body["records"]][:1] == [f"/v1/departments/aviation/sanctions/{P}"]
    status, body = await world.call("GET", "/v1/access-log", "auditor", params={"subject": P})
    assert {"auditor-test", "aviation-test"} <= {r["who"] for r in body["records"]}
    assert all(r["path"] != "/v1/public/entries" for r in body["records"])
    # the records are on the topic too (what any other api worker replicates)
    on_topic = [
        record
        async for r in read_topic(world.bootstrap, world.settings.topic_access_log)
        for record in json.loads(r.value)
    ]
    assert any(r["subjects"] == [marker] for r in on_topic)


async def test_errors_are_json_for_unknown_paths_and_methods(world: LiveApi):
    status, body = await world.call("GET", "/v1/nothing-here")
    assert status == 404 and "error" in body
    status, body = await world.call("DELETE", f"/v1/subjects/{P}", "auditor")
    assert status == 405 and "error" in body


async def test_replicated_rows_give_the_cycle_collector_nothing_to_walk(world: LiveApi):
    """A full collection walked every replicated row (0.29 s at 10,000 subjects, every check
    waiting): rows are kept as the bytes of their JSON, which the collector never tracks."""
    assert world.roles.api is not None
    api = ApiRole(
        world.settings.model_copy(update={"web_port": 0}), world.bootstrap, world.roles.api.catalog
    )
    await api.start()
    try:
        await api.settle()
        state = api.state
        rows = [state.subjects.stored(P), state.sanctions["aviation"].stored(P)]
        rows += [state.entries.stored(key) for key in state.entries]
        assert all(isinstance(row, bytes) and not gc.is_tracked(row) for row in rows), rows
        assert api.api is not None  # and it answers from them
        assert api.api.read.check(P, "air.ticket", date(2024, 6, 1)).allowed is False
    finally:
        await api.stop()
