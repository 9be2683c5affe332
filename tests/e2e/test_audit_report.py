"""`shixin audit report` as an auditor runs it, and its page as a person sees it in Chromium."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from shixin.synthetic import generate_history
from tests.browser import browser  # noqa: F401
from tests.builders import confirmation, listed, performed, person_id, shielded, warned, write_jsonl

SHIXIN = [sys.executable, "-m", "shixin.cli", "--log-level", "error"]
SCREENSHOT = Path("/tmp/shixin-audit-report.png")
MANUAL = "ndrc"  # a manual department: a person confirms each action, so lifts take time
SUBJECT = person_id(501)
# hours from the entry leaving the list to the person's lift: met, met, met, missed, missed
LIFT_DELAYS = (2, 30, 50, 150, 300)


def confirm(kind: str, subject_id: str, at: str) -> dict[str, Any]:
    return confirmation(kind, MANUAL, subject_id, at)


def _iso(day: int, hour: int) -> str:
    """`hour` hours after the start of `day` March 2024 (CST)."""
    from datetime import datetime, timedelta, timezone

    moment = datetime(2024, 3, day, tzinfo=timezone(timedelta(hours=8))) + timedelta(hours=hour)
    return moment.isoformat()


def manual_lifts() -> list[dict[str, Any]]:
    """Debtors a person sanctions and then lifts after various delays; the first is SUBJECT."""
    events: list[dict[str, Any]] = []
    for n, delay in enumerate(LIFT_DELAYS):
        entry, subject = f"MANUAL-{n}", SUBJECT if n == 0 else person_id(502 + n)
        events += [
            warned(entry, _iso(1, 10)),
            listed(entry, subject, _iso(11, 10)),
            confirm("SanctionsApplied", subject, _iso(11, 14)),
            performed(entry, _iso(12, 10)),
            shielded(entry, _iso(13, 10)),
            confirm("SanctionsLifted", subject, _iso(13, 10 + delay)),
        ]
    return events


def shixin(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SHIXIN, *args], capture_output=True, text=True, timeout=timeout)


def test_the_report_page_shows_what_the_json_says(tmp_path: Path, browser: Any):  # noqa: F811
    history = write_jsonl(
        tmp_path / "history.jsonl", [*generate_history(120, seed=7), *manual_lifts()]
    )
    out = tmp_path / "report" / "audit.html"
    done = shixin("audit", "report", str(history), "--out", str(out), "--subject", SUBJECT)
    assert done.returncode == 0, done.stderr
    assert "report written" in done.stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["audit.html", "audit.json"]
    report = json.loads(out.with_suffix(".json").read_text("utf-8"))
    summary = report["summary"]
    assert summary["obligations"]["breached"] > 0 and summary["findings"]["total"] > 0

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(out.as_uri())
        assert page.title().startswith("失信被执行人名单审计报告")
        assert page.locator("h1").inner_text() == "失信被执行人名单审计报告"
        headings = page.locator("h2").all_inner_texts()
        for expected in (
            "概况 · Summary",
            "时限遵守情况 · SLA compliance",
            "分布与趋势 · Distributions and trends",
            "超期及未结义务 · Breached and open obligations",
            f"审计发现 · Findings ({len(report['findings'])})",
            f"死信 · Dead letters ({len(report['dead_letters'])})",
            f"主体时间线 · Subject timeline: {SUBJECT}",
        ):
            assert expected in headings, (expected, headings)

        def shown(key: str) -> str:
            card = page.locator(f'[data-key="{key}"]').first
            assert card.is_visible(), key
            return str(card.inner_text())

        assert shown("summary.entries.listed") == str(summary["entries"]["listed"])
        assert shown("summary.entries.total") == str(summary["entries"]["total"])
        assert shown("summary.obligations.breached") == str(summary["obligations"]["breached"])
        assert shown("summary.findings.total") == str(summary["findings"]["total"])
        assert shown("summary.on_time_percent") == f"{summary['on_time_percent']}%"
        assert shown("scope.events_replayed") == str(report["scope"]["events_replayed"])
        breached = page.locator("#breached-obligations tbody tr.obligation")
        assert breached.count() == len(report["obligations"]["breached"])
        first = report["obligations"]["breached"][0]
        assert first["entry_id"] in breached.first.inner_text()
        assert str(first["overdue_days"]) in breached.first.inner_text()

        # the manual department's row: its verdicts and lift times as the JSON has them
        row = next(d for d in report["sla"]["departments"] if d["id"] == MANUAL)
        assert (row["met"], row["missed"]) == (3, 2)
        cells = page.locator(f'#sla-departments tr[data-department="{MANUAL}"] td')
        texts = [t.strip() for t in cells.all_inner_texts()]
        assert texts[4:6] == [str(row["met"]), str(row["missed"])]
        assert texts[-2:] == [str(row["lift_hours_median"]), str(row["lift_hours_p95"])]

        # the time-to-lift histogram: one bar per bin, as high as its count says
        chart = page.locator("#chart-time-to-lift svg")
        assert chart.is_visible()
        bars = chart.locator("rect.bar[data-value]")
        bins = report["charts"]["time_to_lift"]["bins"]
        assert [int(b.get_attribute("data-value")) for b in bars.all()] == [
            b["count"] for b in bins
        ]
        heights = [b.bounding_box()["height"] for b in bars.all()]
        counts = [b["count"] for b in bins]
        for (ca, ha), (cb, hb) in itertools.combinations(zip(counts, heights, strict=True), 2):
            if ca != cb:
                assert (ca > cb) == (ha > hb), (counts, heights)
        tallest = bars.nth(max(range(len(bins)), key=lambda i: bins[i]["count"]))
        assert tallest.is_visible() and tallest.bounding_box()["height"] > 100
        months = report["charts"]["listings_by_month"]
        assert page.locator("#chart-listings-by-month rect.bar[data-value]").count() == 2 * len(
            months
        )

        # the subject's timeline, in time order
        rows = page.locator("#subject-timeline tr.timeline-row")
        timeline = report["subject"]["timeline"]
        assert rows.count() == len(timeline) >= 10
        assert "风险提示" in rows.first.inner_text()
        assert [r.get_attribute("data-type") for r in rows.all()] == [t["type"] for t in timeline]
        lifted = page.locator('#subject-timeline tr[data-type="SanctionsLifted"]', has_text=MANUAL)
        assert "confirmed by a person" in lifted.inner_text()

        page.screenshot(path=str(tmp_path / "audit-report.png"), full_page=True)
        shutil.copyfile(tmp_path / "audit-report.png", SCREENSHOT)
    finally:
        page.close()


def test_ctrl_c_while_replaying_leaves_the_previous_report(tmp_path: Path):
    history = write_jsonl(tmp_path / "history.jsonl", generate_history(5000, seed=5))
    out = tmp_path / "audit.html"
    out.write_text("the previous report", encoding="utf-8")
    process = subprocess.Popen(
        [*SHIXIN, "audit", "report", str(history), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal, even when the tests run as a background job (SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(4)  # imports done, replay under way (18 550 events take far longer than that)
    assert process.poll() is None, "the replay finished before it could be interrupted"
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert out.read_text("utf-8") == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.html", "history.jsonl"]
