"""The audit report's content from a small hand-built history, where every number is known."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from shixin.audit.replay import Replay
from shixin.audit.report import report_from_replay
from shixin.audit.report_files import json_path_for, write_report, write_together
from shixin.audit.report_html import render_html
from shixin.audit.timeline import SubjectTimeline
from shixin.cli.base import parse_time
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings
from tests.builders import (
    confirmation,
    corrected,
    entity_id,
    listed,
    performed,
    person_id,
    shielded,
    warned,
)

P, Q, S = person_id(101), person_id(102), person_id(103)
E, R = entity_id(201), person_id(104)
OTHER_COURT = {"code": "C110105", "name": "北京市朝阳区人民法院"}
MANUAL = "ndrc"  # a manual department whose measures bind a natural person debtor


def confirm(kind: str, subject_id: str, at: str) -> dict[str, Any]:
    return confirmation(kind, MANUAL, subject_id, at)


def history() -> list[dict[str, Any]]:
    """A: warned, listed, performed, shielded on time; the manual department lifts in 48 h.
    B: listed without warning, performed, never shielded (a breach).
    C: like A, but the manual department lifts after 12 days (missed).
    D: another court, an entity with a related person, listed in May.
    Z404: shielded, never listed (a dead letter)."""
    return [
        warned("A", "2024-03-01T10:00:00+08:00"),
        warned("C", "2024-03-01T10:00:00+08:00"),
        listed("A", P, "2024-03-11T10:00:00+08:00"),
        listed("B", Q, "2024-03-11T10:00:00+08:00"),
        listed("C", S, "2024-03-11T10:00:00+08:00"),
        confirm("SanctionsApplied", P, "2024-03-11T12:00:00+08:00"),
        confirm("SanctionsApplied", S, "2024-03-11T12:00:00+08:00"),
        performed("A", "2024-03-12T10:00:00+08:00"),
        performed("B", "2024-03-12T10:00:00+08:00"),
        performed("C", "2024-03-12T10:00:00+08:00"),
        shielded("A", "2024-03-13T10:00:00+08:00"),
        shielded("C", "2024-03-13T10:00:00+08:00"),
        confirm("SanctionsLifted", P, "2024-03-15T10:00:00+08:00"),
        confirm("SanctionsLifted", S, "2024-03-25T10:00:00+08:00"),
        shielded("Z404", "2024-04-01T10:00:00+08:00"),
        warned("D", "2024-04-20T10:00:00+08:00") | {"court": OTHER_COURT},
        listed(
            "D",
            E,
            "2024-05-02T10:00:00+08:00",
            kind="entity",
            related=[{"role": "legal_representative", "id": R, "name": "李四"}],
            court=OTHER_COURT,
        ),
    ]


def replayed(
    events: list[dict[str, Any]], until: str | None = None, subject: str | None = None
) -> tuple[Replay, SubjectTimeline | None]:
    catalog = get_catalog()
    assert any(m.binds("person", "debtor") for m in catalog.measures_of(MANUAL))
    assert catalog.department_by_id[MANUAL].execution == "manual"
    replay = Replay(Settings(), catalog, get_policy("brief"))
    replay.until = parse_time(until, "--until")
    timeline = SubjectTimeline(subject) if subject else None
    replay.observer = timeline
    replay.feed_lines(json.dumps(e, ensure_ascii=False) for e in events)
    return replay, timeline


def report(
    until: str | None = None, court: str | None = None, subject: str | None = None
) -> dict[str, Any]:
    replay, timeline = replayed(history(), until, subject)
    return report_from_replay(replay, source="test", court=court, timeline=timeline)


def department(content: dict[str, Any], department_id: str) -> dict[str, Any]:
    return next(d for d in content["sla"]["departments"] if d["id"] == department_id)


def test_summary_counts_the_whole_history():
    content = report()
    assert content["scope"]["now"] == "2024-05-02T10:00:00+08:00"  # the latest event
    assert content["scope"]["events_replayed"] == 17
    summary = content["summary"]
    assert summary["entries"] == {
        "total": 4,
        "warned": 0,
        "listed": 2,
        "shielded": 2,
        "revoked": 0,
    }
    assert summary["subjects"] == {"total": 5, "sanctionable": 3}
    verdicts = summary["obligations"]
    assert (verdicts["breached"], verdicts["missed"], verdicts["open"]) == (1, 1, 0)
    assert verdicts["met"] == verdicts["total"] - 2
    assert summary["on_time_percent"] == round(100 * verdicts["met"] / verdicts["total"], 1)
    assert summary["findings"] == {"total": 1, "listed_without_warning": 1}
    assert summary["dead_letters"] == 1
    assert len(content["dead_letters"]) == 1


def test_sla_per_department_and_court():
    content = report()
    manual = department(content, MANUAL)
    assert (manual["met"], manual["missed"], manual["breached"], manual["open"]) == (1, 1, 0, 0)
    assert manual["on_time_percent"] == 50.0
    # 48 h and 288 h: the median is their mean, p95 the longer
    assert (manual["lift_hours_median"], manual["lift_hours_p95"]) == (168.0, 288.0)
    assert manual["pending_apply"] == 2  # Q and E are listed; no person has acted yet
    assert content["sla"]["departments"][0]["id"] == MANUAL  # the worst first
    rail = department(content, "rail")
    assert (rail["met"], rail["missed"], rail["lift_hours_median"]) == (2, 0, 0.0)
    courts = {c["code"]: c for c in content["sla"]["courts"]}
    home = courts["C360483"]
    assert (home["entries"], home["listed"], home["met"], home["breached"]) == (3, 1, 2, 1)
    assert home["on_time_percent"] == 66.7
    assert courts["C110105"] | {"name": None} == {
        "code": "C110105",
        "name": None,
        "entries": 1,
        "listed": 1,
        "open": 0,
        "met": 0,
        "missed": 0,
        "breached": 0,
        "total": 0,
        "on_time_percent": None,
    }
    assert courts["C110105"]["name"] == "北京市朝阳区人民法院"


def test_charts_bin_the_times_and_count_the_months():
    content = report()
    lift = {b["label"]: b["count"] for b in content["charts"]["time_to_lift"]["bins"]}
    assert lift["2–3 d"] == 1 and lift["≥ 10 d"] == 1
    assert sum(lift.values()) == content["charts"]["time_to_lift"]["closed"]
    exits = content["charts"]["time_to_exit"]
    assert exits["closed"] == 2 and exits["median_hours"] == 24.0
    assert {b["label"]: b["count"] for b in exits["bins"]}["1–2 d"] == 2
    assert content["charts"]["listings_by_month"] == [
        {"month": "2024-03", "listed": 3, "left": 2},
        {"month": "2024-04", "listed": 0, "left": 0},
        {"month": "2024-05", "listed": 1, "left": 0},
    ]


def test_breached_and_open_obligations_are_listed():
    content = report()
    (breach,) = content["obligations"]["breached"]
    assert breach["kind"] == "court_exit" and breach["entry_id"] == "B"
    assert breach["due_on"] == "2024-03-15"
    assert breach["overdue_days"] == 48  # 15 March to 2 May
    assert breach["court"] == "C360483" and breach["court_name"] == "庐山市人民法院"
    assert content["obligations"]["open"] == []
    (finding,) = content["findings"]
    assert finding["entry_id"] == "B" and finding["court"] == "C360483"


def test_until_gives_the_state_as_known_then_and_judges_there():
    content = report(until="2024-03-12T12:00:00+08:00")
    assert content["scope"]["until"] == content["scope"]["now"] == "2024-03-12T12:00:00+08:00"
    summary = content["summary"]
    assert summary["entries"]["total"] == 3 and summary["entries"]["listed"] == 3
    assert summary["obligations"] == {
        "total": 3,
        "open": 3,
        "met": 0,
        "missed": 0,
        "breached": 0,
    }
    assert [o["entry_id"] for o in content["obligations"]["open"]] == ["A", "B", "C"]
    assert department(content, MANUAL)["pending_apply"] == 1  # Q; P and S were confirmed
    assert summary["dead_letters"] == 0


def test_court_filter_keeps_only_that_courts_entries():
    content = report(court="C110105")
    assert content["scope"]["court"] == {"code": "C110105", "name": "北京市朝阳区人民法院"}
    summary = content["summary"]
    assert summary["entries"]["total"] == 1
    assert summary["subjects"] == {"total": 2, "sanctionable": 2}
    assert summary["obligations"]["total"] == 0 and summary["findings"]["total"] == 0
    assert [c["code"] for c in content["sla"]["courts"]] == ["C110105"]
    assert content["charts"]["listings_by_month"] == [{"month": "2024-05", "listed": 1, "left": 0}]
    assert all(d["met"] == 0 for d in content["sla"]["departments"])
    assert summary["dead_letters"] == 1  # never filtered: a dead letter names no court


def test_subject_timeline_in_time_order():
    content = report(subject=P)
    subject = content["subject"]
    assert subject["found"] and subject["kind"] == "person" and subject["names"] == ["张三"]
    assert [e["entry_id"] for e in subject["entries"]] == ["A"]
    timeline = subject["timeline"]
    times = [parse_time(t["at"], "at") for t in timeline]
    assert times == sorted(times)
    assert [t["type"] for t in timeline if t["source"] == "court"] == [
        "RiskWarningIssued",
        "DebtorListed",
        "ObligationPerformed",
        "ListingShielded",
    ]
    assert {t["entry_id"] for t in timeline if t["entry_id"]} == {"A"}
    manual = [(t["type"], t["at"]) for t in timeline if t["department"] == MANUAL]
    assert manual == [
        ("SanctionsApplied", "2024-03-11T12:00:00+08:00"),
        ("DeadlineOpened", "2024-03-13T10:00:00+08:00"),
        ("SanctionsLifted", "2024-03-15T10:00:00+08:00"),
        ("DeadlineMet", "2024-03-15T10:00:00+08:00"),
    ]
    applied = next(t for t in timeline if t["department"] == MANUAL)
    assert "confirmed by a person" in applied["detail"]
    rail = [t["type"] for t in timeline if t["department"] == "rail"]
    assert rail == ["SanctionsApplied", "SanctionsLifted", "DeadlineOpened", "DeadlineMet"]
    states = {s["department"]: s["state"] for s in subject["sanctions"]}
    assert states[MANUAL] == "lifted" and states["rail"] == "lifted"
    assert {o["kind"] for o in subject["obligations"]} == {"court_exit", "department_lift"}


def test_a_related_persons_timeline_keeps_the_warning_before_the_listing():
    content = report(subject=R)
    timeline = content["subject"]["timeline"]
    assert [t["type"] for t in timeline if t["source"] == "court"] == [
        "RiskWarningIssued",
        "DebtorListed",
    ]
    assert "legal_representative" in timeline[1]["detail"]
    assert content["subject"]["entries"][0]["roles"] == ["legal_representative"]


def test_a_correction_moves_the_timeline_from_one_subject_to_the_other():
    old, new = person_id(301), person_id(302)
    events = [
        warned("M", "2024-03-01T10:00:00+08:00"),
        listed("M", old, "2024-03-11T10:00:00+08:00"),
        corrected(
            "M",
            {"subject": {"kind": "person", "id": new, "name": "王五"}},
            "2024-03-12T10:00:00+08:00",
        ),
        shielded("M", "2024-03-20T10:00:00+08:00"),
    ]
    for subject, expected in (
        (old, ["RiskWarningIssued", "DebtorListed", "ListingCorrected"]),
        (new, ["ListingCorrected", "ListingShielded"]),
    ):
        _, timeline = replayed(events, subject=subject)
        assert timeline is not None
        assert [t["type"] for t in timeline.rows if t["source"] == "court"] == expected


def test_a_refused_event_is_in_the_timeline_with_its_reason():
    events = [*history(), listed("A", P, "2024-03-20T10:00:00+08:00")]  # A is not listed now
    _, timeline = replayed(events, subject=P)
    assert timeline is not None
    refused = [t for t in timeline.rows if t["refused"]]
    assert len(refused) == 1 and refused[0]["type"] == "DebtorListed"


def test_a_confirmation_with_no_task_is_refused_in_the_timeline():
    stranger = person_id(777)
    events = [*history(), confirm("SanctionsApplied", stranger, "2024-03-20T10:00:00+08:00")]
    _, timeline = replayed(events, subject=stranger)
    assert timeline is not None
    assert [(t["type"], t["refused"]) for t in timeline.rows] == [
        ("SanctionsApplied", "no such task to confirm")
    ]


def test_an_empty_history_gives_an_empty_report():
    replay, _ = replayed([])
    content = report_from_replay(replay, source="nothing")
    assert content["scope"]["now"] is None and content["summary"]["entries"]["total"] == 0
    assert content["charts"]["listings_by_month"] == []
    assert "<svg" in render_html(content)


def test_an_unknown_subject_has_an_empty_section():
    content = report(subject=person_id(999))
    assert content["subject"]["found"] is False and content["subject"]["timeline"] == []


def test_the_report_is_plain_data_and_the_same_twice():
    events = history()  # the builders give new event ids on each call
    first, second = (
        report_from_replay(replay, source="test", timeline=timeline)
        for replay, timeline in (replayed(events, subject=P), replayed(events, subject=P))
    )
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def _at(content: Any, path: str) -> Any:
    if path.endswith(".count"):
        return len(_at(content, path.removesuffix(".count")))
    for part in path.split("."):
        content = content[part]
    return content


def test_every_marked_number_on_the_page_is_the_contents():
    content = report(subject=P)
    html = render_html(content)
    marked = re.findall(r'<span class="num" data-key="([^"]+)">([^<]*)</span>', html)
    assert len(marked) >= 25
    for key, shown in marked:
        value = _at(content, key)
        assert shown.removesuffix("%").removesuffix(" h") == ("–" if value is None else str(value))
    assert html.count('class="timeline-row') == len(content["subject"]["timeline"])
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<script" not in html


def test_write_report_writes_both_files(tmp_path: Path):
    content = report()
    html_path, json_path = write_report(tmp_path / "out" / "report.html", content)
    assert json_path == tmp_path / "out" / "report.json" == json_path_for(html_path)
    assert json.loads(json_path.read_text("utf-8")) == json.loads(json.dumps(content))
    assert html_path.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json"]


def test_an_interrupted_write_leaves_the_old_files_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    a, b = tmp_path / "report.html", tmp_path / "report.json"
    a.write_text("old html"), b.write_text("old json")

    def interrupted(src: str, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_together({a: "new html", b: "new json"})
    assert (a.read_text(), b.read_text()) == ("old html", "old json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.json"]


@pytest.fixture
def sigint_handler():
    """Set SIGINT's handler for a test (whatever this process was started with: a background
    job starts with SIGINT ignored), and put the one before back."""
    before = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, before)


def _replace_then_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace

    def replace_then_ctrl_c(src: str, dst: Any) -> None:
        real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGINT)  # held back until both renames are done

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)


def test_ctrl_c_during_the_renames_lands_both_files_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigint_handler: Any
):
    a, b = tmp_path / "report.html", tmp_path / "report.json"
    sigint_handler(signal.default_int_handler)
    _replace_then_ctrl_c(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        write_together({a: "new html", b: "new json"})
    assert (a.read_text(), b.read_text()) == ("new html", "new json")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it_while_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigint_handler: Any
):
    """A background job (`shixin audit report ... &` in a script) starts with SIGINT ignored:
    writing the report must not turn a Ctrl-C it was never meant to see into an interruption."""
    a, b = tmp_path / "report.html", tmp_path / "report.json"
    sigint_handler(signal.SIG_IGN)
    _replace_then_ctrl_c(monkeypatch)
    write_together({a: "new html", b: "new json"})
    assert (a.read_text(), b.read_text()) == ("new html", "new json")
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
