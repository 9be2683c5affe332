"""Every department gets exactly its duty, for exactly the subjects it binds, for exactly as long
as an entry requires it (issue: the full sanction catalog and every department)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shixin.projections.queries import CHECK_COUNTS, check_subject
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted
from tests.builders import corrected, entity_id, listed, person_id, shielded
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import shixin
from tests.integration.helpers import feed, feedback, sanction

ROLE = ",".join(
    ["court"]
    + [f"department:{d}" for d in ("aviation", "immigration", "sasac", "education", "csrc")]
)
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
async def depts(bootstrap, catalog):
    settings = isolated_settings()
    async with hosted(ROLE, settings, bootstrap, catalog) as roles:
        yield settings, roles


def boss(n: int) -> str:
    return person_id(n, date(1970, 1, 2))


def company_listing(entry: str, company: str, related: list[tuple[str, str]], **kw):
    return listed(
        entry,
        company,
        kind="entity",
        related=[{"role": role, "id": pid, "name": "某"} for role, pid in related],
        **kw,
    )


async def test_each_department_is_its_own_consumer_group(bootstrap, depts):
    settings, roles = depts
    await feed(bootstrap, settings, roles, [listed("G1", person_id(1001))])
    wanted = {f"{settings.app_prefix}-department-{d}" for d in ("aviation", "immigration", "csrc")}
    wanted.add(f"{settings.app_prefix}-court")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(40):  # a group is listed once it has committed (Faust: every 2.8 s)
            groups = {g[0] for g in await admin.list_consumer_groups()}
            if wanted <= groups:
                break
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    assert wanted <= groups


async def test_kinds_and_roles_decide_who_gets_what(bootstrap, depts):
    settings, roles = depts
    person, company, rep = person_id(1101), entity_id(1101), boss(1102)
    await feed(
        bootstrap,
        settings,
        roles,
        [listed("K1", person), company_listing("K2", company, [("legal_representative", rep)])],
    )
    # person-only measures never reach entities, entity-only never reach persons
    assert sanction(roles, "immigration", person)["required"] == ["assist.exit"]
    assert sanction(roles, "immigration", company) is None
    assert sanction(roles, "csrc", company)["required"] == ["industry.bond_public"]
    assert sanction(roles, "csrc", person) is None
    sasac_person = set(sanction(roles, "sasac", person)["required"])
    sasac_company = set(sanction(roles, "sasac", company)["required"])
    assert "industry.equity_incentive_exercise" in sasac_person
    assert "industry.equity_incentive_plan" not in sasac_person
    assert "industry.equity_incentive_plan" in sasac_company
    assert "post.soe_executive" not in sasac_company
    # a related person gets only what extends to their role
    assert sanction(roles, "aviation", rep)["required"] == ["consumption.flights"]
    assert sanction(roles, "immigration", rep) is None
    assert sanction(roles, "sasac", rep) is None
    # only while the entity's entry is listed
    await feed(bootstrap, settings, roles, [shielded("K2", "2024-04-01T10:00:00+08:00")])
    assert sanction(roles, "aviation", rep)["state"] == "lifted"
    assert sanction(roles, "aviation", company)["state"] == "lifted"


async def test_debtor_and_related_person_lifted_only_when_nothing_requires(bootstrap, depts):
    settings, roles = depts
    p, company = boss(1201), entity_id(1201)
    await feed(
        bootstrap,
        settings,
        roles,
        [listed("M1", p), company_listing("M2", company, [("actual_controller", p)])],
    )
    assert sanction(roles, "aviation", p)["entry_ids"] == ["M1", "M2"]
    await feed(bootstrap, settings, roles, [shielded("M1", "2024-04-01T10:00:00+08:00")])
    row = sanction(roles, "aviation", p)
    assert row["state"] == "applied" and row["entry_ids"] == ["M2"]  # still the controller
    assert sanction(roles, "immigration", p)["state"] == "lifted"  # exit: debtors only
    await feed(bootstrap, settings, roles, [shielded("M2", "2024-04-02T10:00:00+08:00")])
    assert sanction(roles, "aviation", p)["state"] == "lifted"


async def test_correcting_a_related_persons_id_moves_their_sanctions(bootstrap, depts):
    settings, roles = depts
    company, wrong, right = entity_id(1301), boss(1301), boss(1302)
    await feed(
        bootstrap,
        settings,
        roles,
        [company_listing("N1", company, [("legal_representative", wrong)])],
    )
    assert sanction(roles, "aviation", wrong)["state"] == "applied"
    fix = corrected(
        "N1",
        {"related_persons": [{"role": "legal_representative", "id": right, "name": "某"}]},
        "2024-03-12T10:00:00+08:00",
    )
    await feed(bootstrap, settings, roles, [fix])
    assert sanction(roles, "aviation", wrong)["state"] == "lifted"
    assert sanction(roles, "aviation", right)["state"] == "applied"
    assert sanction(roles, "aviation", company)["state"] == "applied"


async def test_manual_department_waits_for_a_person_and_reports_it(bootstrap, depts):
    settings, roles = depts
    p = person_id(1401)
    env = settings_env(settings, bootstrap)
    await feed(bootstrap, settings, roles, [listed("Q1", p)])
    assert sanction(roles, "education", p)["state"] == "pending_apply"
    done = shixin(
        "department",
        "confirm",
        "--department",
        "education",
        "--subject",
        p,
        "--action",
        "apply",
        "--at",
        "2024-03-12T15:00:00+08:00",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    await wait_idle(bootstrap, roles, settings, timeout=60)
    row = sanction(roles, "education", p)
    assert row["state"] == "applied" and row["enforced"] == ["consumption.private_schools"]
    reported = [e for e in await feedback(bootstrap, settings, p) if e.department == "education"]
    assert [(e.type, e.origin, e.at.isoformat()) for e in reported] == [
        ("SanctionsApplied", "person", "2024-03-12T15:00:00+08:00")
    ]
    await feed(bootstrap, settings, roles, [shielded("Q1", "2024-04-01T10:00:00+08:00")])
    assert sanction(roles, "education", p)["state"] == "pending_lift"
    shixin(
        "department",
        "confirm",
        "--department",
        "education",
        "--subject",
        p,
        "--action",
        "lift",
        env=env,
    )
    await wait_idle(bootstrap, roles, settings, timeout=60)
    assert sanction(roles, "education", p)["state"] == "lifted"


async def test_retention_needs_a_legal_basis_and_an_end_date(bootstrap, depts):
    settings, roles = depts
    p = person_id(1501)
    env = settings_env(settings, bootstrap)
    await feed(bootstrap, settings, roles, [listed("S1", p)])
    refused = shixin(
        "department",
        "confirm",
        "--department",
        "aviation",
        "--subject",
        p,
        "--action",
        "retain",
        env=env,
    )
    assert refused.returncode == 2 and "--legal-basis and --until" in refused.stderr
    kept = shixin(
        "department",
        "confirm",
        "--department",
        "aviation",
        "--subject",
        p,
        "--action",
        "retain",
        "--legal-basis",
        "《某法》第十条",
        "--until",
        "2024-12-31",
        env=env,
    )
    assert kept.returncode == 0, kept.stderr
    await wait_idle(bootstrap, roles, settings, timeout=60)
    await feed(bootstrap, settings, roles, [shielded("S1", "2024-04-01T10:00:00+08:00")])
    row = sanction(roles, "aviation", p)
    assert row["state"] == "retained" and row["retained_until"] == "2024-12-31"
    result = await check_subject(bootstrap, settings, p, "air.ticket", TODAY)
    assert not result.allowed and result.blocks[0].reason == "retained until 2024-12-31"
    after = await check_subject(bootstrap, settings, p, "air.ticket", date(2025, 1, 1))
    assert after.allowed  # the retention ended at its date


async def test_interception_check_names_measures_entries_cases_and_courts(bootstrap, depts):
    settings, roles = depts
    p = person_id(1601)
    await feed(
        bootstrap,
        settings,
        roles,
        [listed("T1", p), listed("T2", p, at="2024-03-12T10:00:00+08:00")],
    )
    before = CHECK_COUNTS[("aviation", "air.ticket", "blocked")]
    result = await check_subject(bootstrap, settings, p, "air.ticket", TODAY)
    assert not result.allowed
    (block,) = result.blocks
    assert block.measure == "consumption.flights" and block.department == "aviation"
    assert [e.entry_id for e in block.entries] == ["T1", "T2"]
    assert block.entries[0].court_name == "庐山市人民法院" and block.entries[0].case_no.endswith(
        "号"
    )
    assert CHECK_COUNTS[("aviation", "air.ticket", "blocked")] == before + 1
    env = settings_env(settings, bootstrap)
    cli = shixin("check", p, "air.ticket", env=env)
    assert cli.returncode == 3 and "BLOCKED" in cli.stdout and "庐山市人民法院" in cli.stdout
    await feed(
        bootstrap,
        settings,
        roles,
        [shielded("T1", "2024-04-01T10:00:00+08:00"), shielded("T2", "2024-04-01T11:00:00+08:00")],
    )
    assert (await check_subject(bootstrap, settings, p, "air.ticket", TODAY)).allowed
    assert shixin("check", p, "air.ticket", env=env).returncode == 0
    assert shixin("check", p, "no.such.action", env=env).returncode == 2


async def test_a_department_started_later_catches_up_from_the_beginning(bootstrap, depts, catalog):
    settings, roles = depts
    p, q = person_id(1701), person_id(1702)
    await feed(
        bootstrap,
        settings,
        roles,
        [listed("U1", p), listed("U2", q), shielded("U2", "2024-04-01T10:00:00+08:00")],
    )
    async with hosted("department:rail", settings, bootstrap, catalog) as late:
        await wait_idle(bootstrap, late, settings, timeout=60)
        rail = late.departments["rail"].sanctions
        assert rail[p]["state"] == "applied" and rail[p]["required"] == ["consumption.rail"]
        assert rail[q]["state"] == "lifted"
        # and it has seen every subject the court role knows, like an early department
        aviation = roles.departments["aviation"].sanctions
        assert set(rail.keys()) == set(aviation.keys())


async def test_a_retention_ends_at_its_date(bootstrap, catalog):
    settings = isolated_settings(action_clock="wall", retention_check_interval=0.5)
    p = person_id(1801)
    env = settings_env(settings, bootstrap)
    async with hosted("court,department:aviation", settings, bootstrap, catalog) as roles:
        await feed(bootstrap, settings, roles, [listed("V1", p)])
        kept = shixin(
            "department", "confirm", "--department", "aviation", "--subject", p,
            "--action", "retain", "--legal-basis", "《某法》第十条", "--until", "2024-12-31",
            env=env,
        )  # fmt: skip
        assert kept.returncode == 0, kept.stderr
        await wait_idle(bootstrap, roles, settings, timeout=60)
        await feed(bootstrap, settings, roles, [shielded("V1", "2024-04-01T10:00:00+08:00")])
        # the end date is long past by the wall clock: the department's timer lifts it
        for _ in range(40):
            await wait_idle(bootstrap, roles, settings, timeout=60)
            if sanction(roles, "aviation", p)["state"] == "lifted":
                break
            await asyncio.sleep(0.25)
        row = sanction(roles, "aviation", p)
        assert row["state"] == "lifted" and row["retained"] == [] and row["enforced"] == []
        reported = [
            e for e in await feedback(bootstrap, settings, p) if e.type == "SanctionsLifted"
        ]
        assert [(e.origin, e.measures) for e in reported][-1] == ("agent", ("consumption.flights",))
