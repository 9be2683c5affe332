"""The command line as a user runs it: real processes, real files, the real broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shixin.synthetic import generate_history
from tests.builders import (
    corrected,
    listed,
    performed,
    person_id,
    shielded,
    warned,
    write_jsonl,
)

SHIXIN = [sys.executable, "-m", "shixin.cli", "--log-level", "error"]


def shixin(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHIXIN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def tansu_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "tansu.*broker"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_run_and_replay_write_byte_identical_dumps(tmp_path: Path):
    history = list(generate_history(60, seed=11))
    p, q = person_id(901), person_id(902)
    extra = [
        warned("Z1"),
        listed("Z1", p),
        listed("Z2", p, at="2024-03-12T10:00:00+08:00"),
        corrected(
            "Z2",
            {"subject": {"kind": "person", "id": q, "name": "王五"}},
            "2024-03-13T10:00:00+08:00",
        ),
        shielded("Z1", "2024-04-01T10:00:00+08:00"),
        shielded("Z404", "2024-04-01T10:00:00+08:00"),  # never listed: a dead letter
    ]
    extra.append(dict(extra[1]))  # a duplicate: a dead letter
    source = write_jsonl(tmp_path / "history.jsonl", history + extra)
    live, offline = tmp_path / "live", tmp_path / "offline"
    ran = shixin("run", str(source), "--dump", str(live))
    assert ran.returncode == 0, ran.stderr
    replayed = shixin("replay", str(source), "--dump", str(offline))
    assert replayed.returncode == 0, replayed.stderr
    names = sorted(f.name for f in live.iterdir())
    assert names == sorted(f.name for f in offline.iterdir())
    assert {"entries.json", "subjects.json", "sanctions.json", "dead_letters.json"} <= set(names)
    for name in names:
        assert (live / name).read_bytes() == (offline / name).read_bytes(), name
    letters = json.loads((live / "dead_letters.json").read_text("utf-8"))
    assert len(letters) == 2
    subjects = json.loads((live / "subjects.json").read_text("utf-8"))
    assert subjects[p]["active_entry_ids"] == [] and subjects[q]["active_entry_ids"] == ["Z2"]
    sanctions = json.loads((live / "sanctions.json").read_text("utf-8"))
    assert sanctions["aviation"][p]["state"] == "lifted"
    assert sanctions["aviation"][q]["state"] == "applied"
    assert any(row["state"] == "lifted" for row in sanctions["rail"].values())


def test_publish_reports_every_bad_line_and_publishes_nothing(tmp_path: Path, bootstrap: str):
    from tests.conftest import isolated_settings

    settings = isolated_settings()
    good = listed("P1", person_id(11))
    bad_checksum = listed("P2", person_id(12)[:-1] + ("1" if person_id(12)[-1] != "1" else "2"))
    unknown = {**listed("P3", person_id(13)), "type": "DebtorVanished"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps(bad_checksum),
        "",
        json.dumps(unknown),
        json.dumps(good),
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {
        "SHIXIN_KAFKA_BOOTSTRAP": bootstrap,
        "SHIXIN_TOPIC_COURT_EVENTS": settings.topic_court_events,
    }
    result = shixin("publish", str(source), env=env)
    assert result.returncode == 2
    assert f"{source}:line 2: not JSON" in result.stderr
    assert f"{source}:line 3: invalid DebtorListed: subject: resident ID" in result.stderr
    assert "check character should be" in result.stderr
    assert f"{source}:line 5: invalid event: unknown event type 'DebtorVanished'" in result.stderr
    assert "line 1:" not in result.stderr and "line 6:" not in result.stderr
    assert "nothing was published" in result.stderr

    import asyncio

    from shixin.runtime.reader import read_topic

    async def count() -> int:
        return len([r async for r in read_topic(bootstrap, settings.topic_court_events)])

    assert asyncio.run(count()) == 0

    source.write_text(json.dumps(good) + "\n", encoding="utf-8")
    result = shixin("publish", str(source), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"published": 1}
    assert asyncio.run(count()) == 1


def test_catalog_json_has_the_contract_shape():
    result = shixin("catalog", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    measure = next(m for m in data["measures"] if "air.ticket" in m["actions"])
    for key in (
        "id",
        "category",
        "title_zh",
        "title_en",
        "departments",
        "subject_kinds",
        "related_roles",
        "mode",
        "execution",
        "actions",
        "lift_days",
    ):
        assert key in measure
    assert measure["departments"] == ["aviation"] and measure["execution"] == "automatic"
    assert {d["id"] for d in data["departments"]} >= {"aviation", "rail", "immigration"}
    human = shixin("catalog")
    assert human.returncode == 0 and "consumption.flights" in human.stdout


def test_broker_command_leaves_no_process_behind():
    before = tansu_pids()
    proc = subprocess.Popen([*SHIXIN, "broker"], stdout=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    assert address.startswith("127.0.0.1:")
    started = tansu_pids() - before
    assert len(started) == 1
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    assert not (tansu_pids() & started)

    # even when the owner is killed outright, its broker dies with it
    proc = subprocess.Popen([*SHIXIN, "broker"], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    started = tansu_pids() - before
    assert len(started) == 1
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while tansu_pids() & started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (tansu_pids() & started)


@pytest.mark.slow
def test_demo_shows_sanctions_applied_and_lifted_and_stops_cleanly():
    before = tansu_pids()
    proc = subprocess.Popen(
        [*SHIXIN, "demo", "--json", "--rate", "20", "--debtors", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, "SHIXIN_WEB_PORT": "0"},  # the dashboard on any free port
    )
    last: dict = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line.startswith("{"):
                continue
            last = json.loads(line)
            if last["feedback_lifted"] > 0 and last["dead_letters"] > 0:
                break
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0
    assert "demo stopped" in rest
    assert last["feedback_applied"] > 0 and last["feedback_lifted"] > 0
    assert last["first_sanction_after_s"] is not None
    assert not (tansu_pids() - before)


def test_a_supplied_holiday_schedule_gives_deadlines_into_the_next_year_live_and_replayed(
    tmp_path: Path,
):
    """Deadlines that run into a year the calendar library does not hold have no due date until
    the operators supply that year; `run` and `replay` given the same file agree on them."""
    p = person_id(903)
    source = write_jsonl(
        tmp_path / "history.jsonl",
        [
            listed("Y1", p, at="2026-12-28T10:00:00+08:00"),
            performed("Y1", "2026-12-30T10:00:00+08:00"),  # court exit: 3 days
            shielded("Y1", "2026-12-31T10:00:00+08:00"),  # department lifts: 3 days
        ],
    )
    schedules = tmp_path / "holidays.yaml"
    # made up for the test: 1 January given off, Sunday 3 January worked
    schedules.write_text(
        "- year: 2027\n  holidays: [2027-01-01]\n  working_days: [2027-01-03]\n", "utf-8"
    )
    checked = shixin("calendar", "--file", str(schedules), "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["covered"] == {"first": 2004, "last": 2027}

    def due_dates(command: str, env: dict[str, str]) -> dict[str, str | None]:
        out = tmp_path / f"{command}-{len(env)}"
        done = shixin(command, str(source), "--dump", str(out), env=env)
        assert done.returncode == 0, done.stderr
        obligations = json.loads((out / "obligations.json").read_text("utf-8"))
        return {
            o["kind"] + "/" + (o["department"] or ""): o["due_on"] for o in obligations.values()
        }

    unknown = due_dates("replay", {})
    assert unknown["court_exit/"] is None and unknown["department_lift/aviation"] is None
    given = {"SHIXIN_HOLIDAY_SCHEDULES": str(schedules)}
    replayed = due_dates("replay", given)
    # performed Wed 30 Dec: 3 days end Sat 2 January, a rest day, so the first working day
    # after it (Art. 85): Sun 3, worked in this schedule (the library would say Mon 4)
    assert replayed["court_exit/"] == "2027-01-03"
    # shielded Thu 31 Dec: 3 days end Sun 3 January, a working day in this schedule
    assert replayed["department_lift/aviation"] == "2027-01-03"
    assert due_dates("run", given) == replayed

    bad = tmp_path / "bad.yaml"
    bad.write_text("- year: 2027\n  holidays: [2027-01-01]\n  working_days: [2027-01-04]\n")
    refused = shixin("calendar", "--file", str(bad))
    assert refused.returncode == 1
    assert "make-up working day 2027-01-04 is a weekday" in refused.stderr
