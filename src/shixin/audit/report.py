"""The audit report's content: one plain dict, built from a finished replay's views.

`build_report` is pure (views and names in, a JSON-ready dict out; no I/O, no clock), so the
HTML and the JSON file say exactly the same thing and any source of history (JSON Lines, topics,
Avro archives) plugs in through `report_from_replay`. Times are RFC 3339 in CST, as in the dumps.

A court filter restricts what follows an entry of that court (entries, obligations, findings,
sanctions, the charts); the subject section always shows all the subject's history, and dead
letters cannot be told apart by court, so they are never filtered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from shixin.domain.catalog import Catalog
from shixin.domain.deadlines import local_date
from shixin.domain.obligations import Obligation, end_of_day
from shixin.domain.subjects import SubjectState
from shixin.projections.dumps import CST, cst
from shixin.projections.sla_report import hours_distribution, summary

if TYPE_CHECKING:
    from shixin.audit.replay import Replay
    from shixin.audit.timeline import SubjectTimeline

REPORT_VERSION = 1
ENTRY_STATES = ("warned", "listed", "shielded", "revoked")
VERDICTS = ("open", "met", "missed", "breached")
SANCTION_STATES = ("applied", "pending_apply", "pending_lift", "retained", "lifted")
# time-to-act bins in hours: the deadlines are 3 days, so the bins cut at each day up to it
_SOURCE_RANK = {"court": 0, "department": 1, "deadline": 2}


def report_from_replay(
    replay: Replay,
    *,
    source: str,
    now: datetime | None = None,
    court: str | None = None,
    timeline: SubjectTimeline | None = None,
) -> dict[str, Any]:
    """The report of a finished replay. `now` judges the deadlines; by default the `until` time
    (the state as known then), else the latest event replayed."""
    now = now or replay.until or replay.latest
    views = replay.views(now)
    courts = {raw["court"]["code"]: raw["court"]["name"] for raw in replay.entries.values()}
    subject = None
    if timeline is not None:
        subject = subject_facts(replay, timeline.subject_id)
        subject["timeline"] = timeline.rows
    return build_report(
        views,
        catalog=replay.catalog,
        policy=replay.policy.name,
        now=now,
        until=replay.until,
        events=replay.events,
        source=source,
        courts=courts,
        court=court,
        subject=subject,
    )


def subject_facts(replay: Replay, subject_id: str) -> dict[str, Any]:
    """What the replay's state knows about one subject beyond the views: kind, names, and every
    entry that names or has named it."""
    raw = replay.subjects.get(subject_id)
    state = SubjectState.model_validate(raw) if raw is not None else None
    names: set[str] = set()
    for entry_id in state.entries if state else ():
        entry = replay.entries.get(entry_id) or {}
        if (entry.get("subject") or {}).get("id") == subject_id:
            names.add(entry["subject"]["name"])
        names |= {p["name"] for p in entry.get("related_persons", ()) if p.get("id") == subject_id}
    return {
        "id": subject_id,
        "found": state is not None,
        "kind": state.kind if state else None,
        "names": sorted(names),
        "sanctionable": state.sanctionable if state else False,
        "entries": [
            {
                "entry_id": e.entry_id,
                "case_no": e.case_no,
                "court": e.court_code,
                "court_name": e.court_name,
                "roles": list(e.roles),
                "named": e.named,
                "listed": e.listed,
                "listed_at": cst(e.listed_at),
                "left_at": cst(e.left_at),
                "unnamed_at": cst(e.unnamed_at),
            }
            for _, e in sorted(state.entries.items())
        ]
        if state
        else [],
    }


def build_report(
    views: Mapping[str, Any],
    *,
    catalog: Catalog,
    policy: str,
    now: datetime | None,
    until: datetime | None,
    events: int,
    source: str,
    courts: Mapping[str, str],
    court: str | None = None,
    subject: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole report as data. `subject`: `subject_facts` plus its recorded `timeline` rows."""
    entries = {
        k: v for k, v in views["entries"].items() if court is None or v.get("court") == court
    }
    obligations = [
        _obligation_row(k, v, views["entries"], courts, catalog, now)
        for k, v in sorted(views["obligations"].items())
    ]
    obligations = [o for o in obligations if court is None or o["court"] == court]
    findings = [
        {**f, "court": views["entries"].get(f["entry_id"], {}).get("court")}
        for f in views["findings"]
    ]
    findings = [f for f in findings if court is None or f["court"] == court]
    sanctions = _sanction_rows(views["sanctions"], set(entries) if court else None)
    models = [_model(o) for o in obligations]
    sla = summary(models, now) if now else {"departments": {}, "courts": {}}
    return {
        "version": REPORT_VERSION,
        "scope": {
            "source": source,
            "until": cst(until),
            "now": cst(now),
            "court": {"code": court, "name": courts.get(court)} if court else None,
            "subject": subject["id"] if subject else None,
            "policy": policy,
            "catalog_version": catalog.version,
            "events_replayed": events,
        },
        "summary": _summary(
            entries, views["subjects"], sanctions, obligations, findings, views, court is not None
        ),
        "sla": {
            "departments": _department_rows(sla["departments"], sanctions, catalog),
            "courts": _court_rows(sla["courts"], entries, courts),
        },
        "charts": {
            "time_to_lift": _distribution(
                [o for o in models if o.kind == "department_lift" and o.closed_at]
            ),
            "time_to_exit": _distribution(
                [o for o in models if o.kind == "court_exit" and o.closed_at]
            ),
            "listings_by_month": _by_month(entries.values()),
        },
        "obligations": {
            "breached": sorted(
                (o for o in obligations if o["verdict"] == "breached"),
                key=lambda o: (o["due_on"] or "", o["id"]),
            ),
            "open": sorted(
                (o for o in obligations if o["verdict"] == "open"),
                key=lambda o: (o["due_on"] or "9999", o["id"]),
            ),
        },
        "findings": findings,
        "dead_letters": list(views["dead_letters"]),
        "subject": _subject_section(subject, views, courts, catalog, now) if subject else None,
    }


def _obligation_row(
    obligation_id: str,
    view: Mapping[str, Any],
    entries: Mapping[str, Any],
    courts: Mapping[str, str],
    catalog: Catalog,
    now: datetime | None,
) -> dict[str, Any]:
    entry = entries.get(view["entry_id"] or "", {})
    code = entry.get("court")
    department = catalog.department_by_id.get(view["department"] or "")
    overdue = None
    if view["verdict"] == "breached" and view["due_on"] and now:
        overdue = (local_date(now) - date.fromisoformat(view["due_on"])).days
    return {
        "id": obligation_id,
        **view,
        "case_no": entry.get("case_no"),
        "court": code,
        "court_name": courts.get(code or ""),
        "department_name_zh": department.name_zh if department else None,
        "overdue_days": overdue,
    }


def _model(row: Mapping[str, Any]) -> Obligation:
    fields = ("id", "kind", "entry_id", "department", "subject_id", "court", "opened_at")
    return Obligation.model_validate(
        {**{k: row[k] for k in fields}, "due_on": row["due_on"], "closed_at": row["closed_at"]}
    )


def _sanction_rows(
    by_department: Mapping[str, Mapping[str, Any]], entry_ids: set[str] | None
) -> list[dict[str, Any]]:
    """One row per department and subject; with a court filter, those behind its entries."""
    return [
        {"department": department, "subject_id": subject_id, **row}
        for department, table in sorted(by_department.items())
        for subject_id, row in sorted(table.items())
        if entry_ids is None or entry_ids & set(row["entry_ids"])
    ]


def _summary(
    entries: Mapping[str, Any],
    subjects: Mapping[str, Any],
    sanctions: Sequence[Mapping[str, Any]],
    obligations: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
    views: Mapping[str, Any],
    filtered: bool,
) -> dict[str, Any]:
    states = Counter(e["state"] for e in entries.values())
    # filtered by court: the subjects its entries name now; else every subject ever named
    named = (
        {e["subject_id"] for e in entries.values()}
        | {i for e in entries.values() for i in e["related_ids"]}
        if filtered
        else set(subjects)
    )
    verdicts = Counter(o["verdict"] for o in obligations)
    judged = verdicts["met"] + verdicts["missed"] + verdicts["breached"]
    return {
        "entries": {"total": len(entries), **{s: states[s] for s in ENTRY_STATES}},
        "subjects": {
            "total": sum(1 for s in subjects if s in named),
            "sanctionable": sum(1 for s, v in subjects.items() if s in named and v["sanctionable"]),
        },
        "sanctions": {s: sum(1 for r in sanctions if r["state"] == s) for s in SANCTION_STATES},
        "obligations": {"total": len(obligations), **{v: verdicts[v] for v in VERDICTS}},
        "on_time_percent": _percent(verdicts["met"], judged),
        "findings": {"total": len(findings), **Counter(f["kind"] for f in findings)},
        "dead_letters": len(views["dead_letters"]),
    }


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _department_rows(
    sla: Mapping[str, Mapping[str, Any]],
    sanctions: Sequence[Mapping[str, Any]],
    catalog: Catalog,
) -> list[dict[str, Any]]:
    """Every department that owes or owed something: its manual backlog and its lifts' verdicts
    (a department whose table holds only subjects it never had to act on is left out)."""
    states = {
        s: Counter(r["department"] for r in sanctions if r["state"] == s) for s in SANCTION_STATES
    }
    rows = []
    for department in catalog.departments:
        acted = sum(states[s][department.id] for s in SANCTION_STATES if s != "lifted")
        if not acted and department.id not in sla:
            continue
        counts = sla.get(department.id, {})
        verdicts = {v: counts.get(v, 0) for v in VERDICTS}
        judged = verdicts["met"] + verdicts["missed"] + verdicts["breached"]
        rows.append(
            {
                "id": department.id,
                "name_zh": department.name_zh,
                "name_en": department.name_en,
                "execution": department.execution,
                **{s: states[s][department.id] for s in SANCTION_STATES if s != "lifted"},
                **verdicts,
                "total": sum(verdicts.values()),
                "on_time_percent": _percent(verdicts["met"], judged),
                "lift_hours_median": counts.get("lift_hours_median"),
                "lift_hours_p95": counts.get("lift_hours_p95"),
            }
        )
    # the worst first: what an auditor reads the table for
    return sorted(
        rows,
        key=lambda r: (
            -r["breached"],
            -r["missed"],
            -r["pending_apply"] - r["pending_lift"],
            r["id"],
        ),
    )


def _court_rows(
    sla: Mapping[str, Mapping[str, Any]],
    entries: Mapping[str, Any],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    listed = Counter(e["court"] for e in entries.values() if e["state"] == "listed")
    held = Counter(e["court"] for e in entries.values())
    rows = []
    for code in sorted(set(held) | set(sla)):
        counts = sla.get(code, {})
        verdicts = {v: counts.get(v, 0) for v in VERDICTS}
        judged = verdicts["met"] + verdicts["missed"] + verdicts["breached"]
        rows.append(
            {
                "code": code,
                "name": names.get(code),
                "entries": held[code],
                "listed": listed[code],
                **verdicts,
                "total": sum(verdicts.values()),
                "on_time_percent": _percent(verdicts["met"], judged),
            }
        )
    return sorted(rows, key=lambda r: (-r["breached"], -r["missed"], r["code"]))


def _distribution(closed: Sequence[Obligation]) -> dict[str, Any]:
    """How long the closed obligations took, in hours, binned."""
    return hours_distribution(
        sorted((o.closed_at - o.opened_at).total_seconds() / 3600 for o in closed if o.closed_at)
    )


def _month(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(CST).strftime("%Y-%m")


def _by_month(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """New listings and exits (shielded or revoked) per month (CST), every month in between."""
    listed = Counter(_month(e["listed_at"]) for e in entries if e["listed_at"])
    left = Counter(_month(e["left_at"]) for e in entries if e["left_at"] and e["listed_at"])
    months = sorted(set(listed) | set(left))
    if not months:
        return []
    out = []
    year, month = map(int, months[0].split("-"))
    while f"{year:04d}-{month:02d}" <= months[-1]:
        key = f"{year:04d}-{month:02d}"
        out.append({"month": key, "listed": listed[key], "left": left[key]})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _subject_section(
    subject: Mapping[str, Any],
    views: Mapping[str, Any],
    courts: Mapping[str, str],
    catalog: Catalog,
    now: datetime | None,
) -> dict[str, Any]:
    subject_id = subject["id"]
    entry_ids = {e["entry_id"] for e in subject["entries"]}
    obligations = [
        _obligation_row(k, v, views["entries"], courts, catalog, now)
        for k, v in sorted(views["obligations"].items())
        if v["subject_id"] == subject_id or (v["subject_id"] is None and v["entry_id"] in entry_ids)
    ]
    # the departments that act or acted: a "lifted" row may also be a manual task never done
    acted = {r["department"] for r in subject.get("timeline", ()) if r["department"]}
    sanctions = []
    for department in catalog.departments:
        row = views["sanctions"].get(department.id, {}).get(subject_id)
        if row is not None and (row["state"] != "lifted" or department.id in acted):
            sanctions.append(
                {
                    "department": department.id,
                    "name_zh": department.name_zh,
                    "name_en": department.name_en,
                    "state": row["state"],
                    "measures": row["measures"],
                    "entry_ids": row["entry_ids"],
                }
            )
    timeline = [*subject.get("timeline", ()), *_deadline_rows(obligations)]
    timeline.sort(key=lambda r: (datetime.fromisoformat(r["at"]), _SOURCE_RANK[r["source"]]))
    return {
        **{k: v for k, v in subject.items() if k != "timeline"},
        "sanctions": sanctions,
        "obligations": obligations,
        "findings": [f for f in views["findings"] if f["entry_id"] in entry_ids],
        "timeline": timeline,
    }


def _deadline_rows(obligations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The obligations as timeline rows: opened, then met or missed, or breached at the end of
    the due day."""
    rows = []
    for o in obligations:
        who = o["department"] or o["court_name"] or o["court"]
        due = o["due_on"] or "unknown (calendar not covered)"
        base = {
            "source": "deadline",
            "event_id": None,
            "entry_id": o["entry_id"],
            "department": o["department"],
            "refused": None,
        }
        rows.append(
            {
                **base,
                "at": o["opened_at"],
                "type": "DeadlineOpened",
                "detail": f"{o['kind']} owed by {who}, due {due}",
            }
        )
        if o["closed_at"]:
            verdict = "met" if o["verdict"] == "met" else "missed"
            rows.append(
                {
                    **base,
                    "at": o["closed_at"],
                    "type": "DeadlineMet" if verdict == "met" else "DeadlineMissed",
                    "detail": f"{o['kind']} by {who} done ({verdict}; due {due})",
                }
            )
        elif o["verdict"] == "breached" and o["due_on"]:
            rows.append(
                {
                    **base,
                    "at": cst(end_of_day(date.fromisoformat(o["due_on"]))),
                    "type": "DeadlineBreached",
                    "detail": f"{o['kind']} by {who} not done by {due}",
                }
            )
    return rows
