"""The public list (供公众免费查询) through real HTTP against the live pipeline: listed public
entries only, ID numbers masked, searched by name or full ID number / credit code, paged."""

from __future__ import annotations

from datetime import date

import pytest

from shixin.domain.identifiers import mask_resident_id
from tests.api_live import LiveApi, live_api_fixture  # noqa: F401
from tests.builders import corrected, entity_id, listed, person_id, revoked, shielded, warned

WANG = person_id(2101, date(1964, 7, 9))
COMPANY, BOSS = entity_id(2102), person_id(2103)
HIDDEN, GONE, VOID = person_id(2104), person_id(2105), person_id(2106)
LATER_HIDDEN = person_id(2107)


def named(entry_id: str, subject_id: str, name: str, at: str, **changes: object) -> dict:
    event = listed(entry_id, subject_id, at=at)
    event["subject"]["name"] = name
    return {**event, **changes}


@pytest.fixture(scope="module")
async def world(live_api: LiveApi) -> LiveApi:
    await live_api.intake(
        [
            named("L1", WANG, "王五", "2024-03-01T10:00:00+08:00"),
            named("L2", WANG, "王五", "2024-03-05T10:00:00+08:00"),
            listed(
                "L3",
                COMPANY,
                kind="entity",
                at="2024-03-02T10:00:00+08:00",
                related=[{"role": "legal_representative", "id": BOSS, "name": "李四"}],
            ),
            named("L4", HIDDEN, "赵六", "2024-03-03T10:00:00+08:00", public=False),
            named("L5", GONE, "钱七", "2024-03-04T10:00:00+08:00"),
            shielded("L5", "2024-04-01T10:00:00+08:00"),
            named("L6", VOID, "孙八", "2024-03-04T11:00:00+08:00"),
            revoked("L6", "2024-04-01T11:00:00+08:00"),
            warned("L7"),
            named("L8", LATER_HIDDEN, "周九", "2024-03-06T10:00:00+08:00"),
            corrected("L8", {"public": False}, "2024-03-07T10:00:00+08:00"),
        ]
    )
    return live_api


async def _all(world: LiveApi, **params: object) -> dict:
    status, body = await world.call("GET", "/v1/public/entries", params=params)
    assert status == 200, body
    return body


async def test_only_listed_public_entries_are_shown_newest_first(world: LiveApi):
    body = await _all(world, page_size=100)
    assert [e["entry_id"] for e in body["items"]] == ["L2", "L3", "L1"]
    assert body["total"] == 3
    text = str(body)
    for never in (HIDDEN, GONE, VOID, LATER_HIDDEN, "赵六", "钱七", "孙八", "周九"):
        assert never not in text
    for id_number in (HIDDEN, GONE, VOID, LATER_HIDDEN):
        assert (await _all(world, id_number=id_number))["total"] == 0


async def test_id_numbers_are_masked_and_credit_codes_shown(world: LiveApi):
    body = await _all(world, name="王五")
    assert body["total"] == 2
    for item in body["items"]:
        assert item["id_number"] == mask_resident_id(WANG) == WANG[:10] + "****" + WANG[14:]
        assert WANG[10:14] == "0709"
        assert item["kind"] == "person" and item["sex"] in ("male", "female")
        assert item["age"] >= 60
        assert item["court"]["name"] == "庐山市人民法院" and item["case_no"].startswith("(2024)")
    assert WANG not in str(body)
    [company] = (await _all(world, id_number=COMPANY))["items"]
    assert company["id_number"] == COMPANY and company["legal_representative"] == "李四"
    assert company["age"] is None and company["sex"] is None
    assert BOSS not in str(await _all(world, page_size=100))


async def test_search_by_full_id_number_and_by_name(world: LiveApi):
    assert {e["entry_id"] for e in (await _all(world, id_number=WANG))["items"]} == {"L1", "L2"}
    assert (await _all(world, id_number=WANG[:14]))["total"] == 0  # full numbers only
    assert (await _all(world, name="王五", id_number=WANG))["total"] == 2
    assert (await _all(world, name="王五", id_number=COMPANY))["total"] == 0
    assert (await _all(world, name="某某有限公司"))["items"][0]["entry_id"] == "L3"
    assert (await _all(world, name="王"))["total"] == 0  # the exact name, as the platform does


async def test_paging(world: LiveApi):
    first = await _all(world, page=1, page_size=2)
    second = await _all(world, page=2, page_size=2)
    assert first["total"] == second["total"] == 3
    assert [e["entry_id"] for e in first["items"] + second["items"]] == ["L2", "L3", "L1"]
    assert (await _all(world, page=3, page_size=2))["items"] == []
    for bad in ({"page": 0}, {"page_size": 101}, {"page": "x"}):
        status, body = await world.call("GET", "/v1/public/entries", params=bad)
        assert status == 400 and "error" in body


async def test_an_entry_leaves_the_public_list_when_shielded(world: LiveApi):
    assert (await _all(world, id_number=COMPANY))["total"] == 1
    await world.intake([shielded("L3", "2024-05-01T10:00:00+08:00")])
    assert (await _all(world, id_number=COMPANY))["total"] == 0
    # a token is not needed, and any known token sees the same list
    status, body = await world.call("GET", "/v1/public/entries", "aviation")
    assert status == 200 and body == await _all(world)
