"""The bad-input corpus through the third way in, the HTTP intake: every bad line refused at the
door with the same reason `shixin publish` gives, with its line number, and nothing published;
and the ways a body itself can be wrong."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from aiokafka import TopicPartition

from shixin.runtime.offsets import fetched_end_offsets
from tests.api_live import LiveApi, auth
from tests.api_live import live_api_fixture as live_api_fixture
from tests.corpus.bad_inputs import CASES, listing, person

JSON_CASES = [c for c in CASES if c.has_json]
NOT_COURT = r"is not a court event"


def good_line(n: int) -> str:
    return json.dumps(listing(f"HTTP-OK-{n}", person(n, birth=date(1990, 1, 2))))


async def _published(live: LiveApi) -> int:
    topic = live.settings.topic_court_events
    tps = [TopicPartition(topic, p) for p in range(live.settings.partitions)]
    return sum((await fetched_end_offsets(live.bootstrap, tps)).values())


async def test_every_bad_line_is_refused_at_the_door_with_its_reason(live_api: LiveApi):
    assert len(JSON_CASES) >= 40
    lines: list[str] = []
    expected: dict[int, Any] = {}
    for n, case in enumerate(JSON_CASES):
        assert case.json_line is not None
        lines.append(good_line(n))
        lines.append(case.json_line)
        expected[len(lines)] = case
    lines.append(good_line(999))
    before = await _published(live_api)
    status, body = await live_api.call(
        "POST",
        "/v1/court/events",
        "court",
        data="\n".join(lines).encode("utf-8"),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert status == 422, body
    assert "nothing was published" in body["error"]
    reported = {p["line"]: p["reason"] for p in body["problems"]}
    assert sorted(reported) == sorted(expected)
    wrong = [
        (line, expected[line].name, reason)
        for line, reason in reported.items()
        if not re.search(expected[line].json_reason or "", reason)
        and not re.search(NOT_COURT, reason)
    ]
    assert not wrong
    assert await _published(live_api) == before
    # the good lines alone go through
    goods = [json.loads(good_line(n)) for n in range(3)]
    accepted = await live_api.intake(goods)
    assert accepted == [g["event_id"] for g in goods]
    assert await _published(live_api) == before + 3


async def test_a_body_that_is_wrong_in_itself_is_refused(live_api: LiveApi):
    url = "/v1/court/events"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"data": b"{not json"}, "not JSON"),
        ({"data": "\u00e9".encode("latin-1"), "headers": {"Content-Type": "application/json"}}, ""),
        ({"json": {"event_id": "x"}}, "JSON array"),
        ({"json": []}, "no events"),
        ({"data": b"\xff\xfe garbage", "headers": {"Content-Type": "application/x-ndjson"}}, ""),
    ]
    before = await _published(live_api)
    for kwargs, reason in cases:
        status, body = await live_api.call("POST", url, "court", **kwargs)
        assert status == 422, (kwargs, body)
        assert reason in json.dumps(body, ensure_ascii=False), (kwargs, body)
    # without the court's token nobody gets as far as validation
    status, _ = await live_api.call("POST", url, None, json=[json.loads(good_line(1))])
    assert status == 401
    status, _ = await live_api.call(
        "POST", url, None, json=[json.loads(good_line(1))], headers=auth("aviation")
    )
    assert status == 403
    assert await _published(live_api) == before
