"""The packaged sanction catalog: complete against the brief's section 二, and validated on load."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from shixin.domain.catalog import CATEGORIES, RELATED_ROLES, Catalog, load_catalog


def _text() -> str:
    return (files("shixin.domain") / "data" / "catalog.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(_text())


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(_text())
    return copy.deepcopy(data)


# Every measure of the brief's section 二 (加强联合惩戒), by the brief's own item number, with a key
# phrase from the brief's text. An item split among departments has one row per part. The brief
# prints the 6th item of category 1 (招投标) as "(3)"; it is 1(6) here.
BRIEF: list[tuple[str, str]] = [
    ("1(1)", "银行业金融机构"),
    ("1(1)", "融资性担保公司"),
    ("1(2)", "银行间市场发行债券"),
    ("1(2)", "公开发行公司债券"),
    ("1(3)", "股权激励计划"),
    ("1(3)", "行权资格"),
    ("1(4)", "设立社会组织"),
    ("1(5)", "政府采购"),
    ("1(5)", "政府投资项目或主要使用财政性资金项目"),
    ("1(6)", "投标人、招标代理人"),
    ("1(6)", "招标从业活动"),
    ("1(6)", "评标专家"),
    ("2(1)", "政府补贴资金"),
    ("2(1)", "社会保障资金"),
    ("2(2)", "投资"),
    ("2(2)", "进出口"),
    ("2(2)", "科技"),
    ("3(1)", "国有资本控股公司"),
    ("3(2)", "事业单位法定代表人"),
    ("3(3)", "担任银行业金融机构"),
    ("3(3)", "融资性担保公司的董事、监事、高级管理人员"),
    ("3(4)", "社会组织负责人"),
    ("3(5)", "公务员"),
    ("3(5)", "事业单位工作人员"),
    ("3(5)", "评先、评优、晋职晋级"),
    ("3(6)", "入党"),
    ("3(7)", "人大代表和政协委员"),
    ("3(8)", "入伍服役"),
    ("4(1)", "海关认证企业"),
    ("4(2)", "药品"),
    ("4(2)", "食品"),
    ("4(2)", "危险化学品"),
    ("4(2)", "烟花爆竹"),
    ("4(2)", "矿山"),
    ("4(2)", "主要负责人及董事、监事、高级管理人员"),
    ("4(3)", "信用档案"),
    ("4(3)", "土地招拍挂"),
    ("4(3)", "银行贷款"),
    ("5(1)", "文明村镇、文明单位、文明家庭"),
    ("5(1)", "道德模范"),
    ("5(1)", "慈善类奖项"),
    ("5(2)", "律师事务所"),
    ("5(3)", "授信"),
    ("6(1)", "不动产"),
    ("6(1)", "土地、矿产"),
    ("6(1)", "国有产权交易"),
    ("6(2)", "国有林地"),
    ("6(2)", "重点林业建设项目"),
    ("6(3)", "水流"),
    ("6(3)", "山岭、荒地、滩涂"),
    ("7(1)", "飞机"),
    ("7(1)", "列车软卧"),
    ("7(1)", "G字头动车组"),
    ("7(2)", "星级以上宾馆饭店"),
    ("7(2)", "夜总会、高尔夫球场"),
    ("7(3)", "团队出境旅游"),
    ("7(3)", "限额控制"),
    ("7(4)", "高收费私立学校"),
    ("7(5)", "新建、扩建、高档装修房屋"),
    ("7(5)", "车辆"),
    ("8", "出境"),
    ("8", "车辆"),
    ("8", "下落不明"),
    ("8", "暴力、威胁"),
    ("9", "党纪政纪责任"),
    ("9", "重点监管对象"),
    ("10", "侦查"),
    ("10", "提起公诉"),
    ("11", "失信被执行人名单信息"),
]
BRIEF_ITEMS = (
    [f"1({i})" for i in range(1, 7)]
    + [f"2({i})" for i in range(1, 3)]
    + [f"3({i})" for i in range(1, 9)]
    + [f"4({i})" for i in range(1, 4)]
    + [f"5({i})" for i in range(1, 4)]
    + [f"6({i})" for i in range(1, 4)]
    + [f"7({i})" for i in range(1, 6)]
    + ["8", "9", "10", "11"]
)
ALL_ROLES = set(RELATED_ROLES)


def _with(catalog: Catalog, action: str) -> Iterator[tuple[str, str]]:
    for measure in catalog.measures_blocking(action):
        for dept in measure.departments:
            yield measure.id, dept


def test_packaged_catalog_loads(catalog: Catalog) -> None:
    assert catalog.version
    assert len(catalog.departments) >= 30


def test_every_measure_of_the_brief_is_in_the_catalog(catalog: Catalog) -> None:
    assert len(BRIEF_ITEMS) == 34
    assert {item for item, _ in BRIEF} == set(BRIEF_ITEMS)
    missing = [
        (item, phrase)
        for item, phrase in BRIEF
        if not any(m.item == item and phrase in m.title_zh for m in catalog.measures)
    ]
    assert missing == []
    # and nothing outside the brief's numbering
    assert {m.item for m in catalog.measures} == set(BRIEF_ITEMS)


def test_items_agree_with_categories(catalog: Catalog) -> None:
    for measure in catalog.measures:
        match = re.fullmatch(r"(\d+)(?:\((\d+)\))?", measure.item)
        assert match, measure.item
        assert int(match.group(1)) == measure.category, measure.id


def test_counts(catalog: Catalog) -> None:
    assert {m.category for m in catalog.measures} == set(CATEGORIES) == set(range(1, 12))
    assert len(catalog.measures) >= 34
    assert len({m.id for m in catalog.measures}) == len(catalog.measures)
    assert all(m.title_zh and m.title_en for m in catalog.measures)
    assert all(d.name_zh and d.name_en for d in catalog.departments)
    assert all(m.lift_days == 3 for m in catalog.measures)


# action -> (brief item, department owning it)
REQUIRED_ACTIONS: dict[str, tuple[str, str]] = {
    "air.ticket": ("7(1)", "aviation"),
    "rail.soft_sleeper": ("7(1)", "rail"),
    "rail.g_train": ("7(1)", "rail"),
    "hotel.star": ("7(2)", "hotels"),
    "travel.outbound_tour": ("7(3)", "culture_tourism"),
    "school.private_high_fee": ("7(4)", "education"),
    "property.build_or_renovate": ("7(5)", "housing"),
    "vehicle.purchase": ("7(5)", "traffic_police"),
    "realestate.purchase": ("6(1)", "real_estate_registry"),
    "exit.travel": ("8", "immigration"),
    "procurement.bid": ("1(5)", "finance"),
    "subsidy.apply": ("2(1)", "finance"),
    "post.soe_executive": ("3(1)", "sasac"),
    "land.auction": ("4(3)", "natural_resources"),
    "credit.loan": ("5(3)", "banks"),
}


@pytest.mark.parametrize("action", sorted(REQUIRED_ACTIONS))
def test_required_actions_on_the_right_department(catalog: Catalog, action: str) -> None:
    item, dept = REQUIRED_ACTIONS[action]
    assert action in catalog.actions
    owners = {(catalog.measure_by_id[m].item, d) for m, d in _with(catalog, action)}
    assert (item, dept) in owners, owners


def test_split_items_give_each_department_its_own_duty(catalog: Catalog) -> None:
    flights = catalog.measure_by_id["consumption.flights"]
    assert flights.departments == ("aviation",)
    assert flights.actions == ("air.ticket",)
    rail = [m for m in catalog.measures if m.item == "7(1)" and "rail" in m.departments]
    assert [m.departments for m in rail] == [("rail",)]
    assert set(rail[0].actions) == {"rail.soft_sleeper", "rail.g_train"}

    item8 = {d: m for m in catalog.measures if m.item == "8" for d in m.departments}
    assert {"immigration", "traffic_police", "public_security"} <= set(item8)
    assert "exit.travel" in item8["immigration"].actions
    assert "exit.travel" not in {
        a for m in catalog.measures_of("public_security") for a in m.actions
    }
    titles = {
        d: [m.title_zh for m in catalog.measures if m.item == "8" and d in m.departments]
        for d in item8
    }
    assert any("车辆" in t for t in titles["traffic_police"])
    assert any("下落不明" in t for t in titles["public_security"])
    assert any("暴力" in t for t in titles["public_security"])

    item9 = {d for m in catalog.measures if m.item == "9" for d in m.departments}
    assert {"discipline", "samr"} <= item9

    # each automatic department only has its own interception duties
    for dept in ("rail", "aviation", "immigration"):
        assert len(catalog.measures_of(dept)) == 1, dept


def test_execution_modes(catalog: Catalog) -> None:
    automatic = {d.id for d in catalog.departments if d.execution == "automatic"}
    assert {
        "rail",
        "aviation",
        "hotels",
        "immigration",
        "traffic_police",
        "real_estate_registry",
    } <= automatic
    for dept in ("organization", "civilization_office", "banks", "nfra", "customs", "sasac"):
        assert catalog.department_by_id[dept].execution == "manual", dept
    for department in catalog.departments:
        assert catalog.measures_of(department.id), department.id


def test_person_only_and_entity_only(catalog: Catalog) -> None:
    def kinds(item: str) -> set[tuple[str, ...]]:
        return {m.subject_kinds for m in catalog.measures if m.item == item}

    # 失信被执行人为个人的 ...
    for item in ("3(1)", "3(2)", "3(4)", "3(7)", "3(8)"):
        assert kinds(item) == {("person",)}, item
    soe = catalog.measure_by_id["post.soe_executive"]
    assert soe.binds("person", "debtor")
    assert not soe.binds("entity", "debtor")
    assert not soe.binds("person", "legal_representative")
    # only enterprises issue bonds, are customs-certified, hold building qualifications
    for item in ("1(2)", "4(1)", "4(3)"):
        assert kinds(item) == {("entity",)}, item
    # everything else in 7 binds both
    assert {k for item in ("7(1)", "7(2)", "7(4)", "7(5)") for k in kinds(item)} == {
        ("person", "entity")
    }


def test_related_roles_follow_the_brief(catalog: Catalog) -> None:
    flights = catalog.measure_by_id["consumption.flights"]
    assert set(flights.subject_kinds) == {"person", "entity"}
    assert set(flights.related_roles) == ALL_ROLES
    for role in ALL_ROLES:
        assert flights.binds("person", role)
        assert not flights.binds("entity", role)
    assert flights.binds("entity", "debtor")
    assert flights.binds("person", "debtor")

    extended = {m.id for m in catalog.measures if m.related_roles}
    # 7(1)-7(5) (the 7(3) resort quota sentence names only the debtor) and 6(1) real estate only
    for measure in catalog.measures:
        if measure.item in {"7(1)", "7(2)", "7(4)", "7(5)"} or measure.id in {
            "consumption.outbound_tours",
            "market.real_estate",
        }:
            assert set(measure.related_roles) == ALL_ROLES, measure.id
            assert "entity" in measure.subject_kinds
        else:
            assert measure.related_roles == (), measure.id
    assert "market.real_estate" in extended
    assert "consumption.resort_quota" not in extended
    assert "realestate.purchase" in catalog.measure_by_id["market.real_estate"].actions


def _rejected(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        Catalog.model_validate(data)
    return str(caught.value)


def test_rejects_duplicate_measure_id(raw: dict[str, Any]) -> None:
    raw["measures"].append(copy.deepcopy(raw["measures"][0]))
    message = _rejected(raw)
    assert f"measure {raw['measures'][0]['id']} is defined twice" in message


def test_rejects_duplicate_department_id(raw: dict[str, Any]) -> None:
    raw["departments"].append(copy.deepcopy(raw["departments"][0]))
    assert f"department {raw['departments'][0]['id']} is defined twice" in _rejected(raw)


def test_rejects_unknown_department(raw: dict[str, Any]) -> None:
    raw["measures"][0]["departments"] = ["ministry_of_magic"]
    message = _rejected(raw)
    assert "names unknown department ministry_of_magic" in message
    assert raw["measures"][0]["id"] in message


def test_rejects_department_without_measures(raw: dict[str, Any]) -> None:
    raw["departments"].append(
        {"id": "idle_bureau", "name_zh": "闲置局", "name_en": "Idle bureau", "execution": "manual"}
    )
    assert "department idle_bureau has no measure" in _rejected(raw)


def test_rejects_unknown_mode(raw: dict[str, Any]) -> None:
    raw["measures"][0]["mode"] = "banish"
    message = _rejected(raw)
    assert "mode" in message
    assert "banish" in message
    assert "'prohibit'" in message


def test_rejects_related_roles_without_entities(raw: dict[str, Any]) -> None:
    flights = next(m for m in raw["measures"] if m["id"] == "consumption.flights")
    flights["subject_kinds"] = ["person"]
    assert "consumption.flights extends to related persons but does not bind entities" in (
        _rejected(raw)
    )
