"""Run every benchmark, each in a process of its own with its own embedded broker, and report
each figure against its baseline measured in the same run.

    python -m bench [--quick | --toy] [--out bench/results.json] [--only NAME,...]

Writes the figures as JSON (with the machine) and prints a table. Timings are reported, never
asserted: read the ratios, the machine may be busy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine, write_history

# sizes: "full" is `make bench`, "quick" `make bench-quick` (under 3 minutes on 2 cores),
# "toy" the smoke test's (seconds)
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "debtors": 60_000,
        "partitions": 8,
        "raw_messages": 200_000,
        "court_events": 100_000,
        "department_events": 100_000,
        "latency_rate": 500,
        "latency_seconds": 60,
        "replay_events": 50_000,
        "check_subjects": 1_000_000,
        "check_requests": 50_000,
        "check_concurrency": 64,
        "memory_events": 200_000,
        "memory_chunks": 4,
        "replicas_events": 50_000,
        "scaling_events": 60_000,
        "scaling_workers": [1, 2, 4],
    },
    "quick": {
        "debtors": 3_000,
        "partitions": 8,
        "raw_messages": 11_000,
        "court_events": 6_000,
        "department_events": 6_000,
        "latency_rate": 500,
        "latency_seconds": 6,
        "replay_events": 4_000,
        "check_subjects": 10_000,
        "check_requests": 5_000,
        "check_concurrency": 64,
        "memory_events": 11_179,
        "memory_chunks": 2,
        "replicas_events": 11_179,
        "scaling_events": 3_000,
        # 4 workers in `make bench` only: each count costs about 12 s of start-up and group join
        "scaling_workers": [1, 2],
    },
    "toy": {
        "debtors": 200,
        "partitions": 4,
        "raw_messages": 700,
        "court_events": 700,
        "department_events": 700,
        "latency_rate": 100,
        "latency_seconds": 2,
        "replay_events": 300,
        "check_subjects": 300,
        "check_requests": 300,
        "check_concurrency": 8,
        "memory_events": 700,
        "memory_chunks": 2,
        "replicas_events": 700,
        "scaling_events": 300,
        "scaling_workers": [1, 2],
    },
}
# (benchmark module, extra size keys): memory runs once per store
RUNS: list[tuple[str, str, dict[str, Any]]] = [
    ("raw", "raw", {}),
    ("court", "court", {}),
    ("department", "department", {}),
    ("latency", "latency", {}),
    ("replay", "replay", {}),
    ("check", "check", {}),
    ("memory_store", "memory", {"memory_store": "memory://"}),
    ("memory_rocksdb", "memory", {"memory_store": "rocksdb://"}),
    ("replicas", "replicas", {}),
    ("scaling", "scaling", {}),
]


def run_one(name: str, module: str, history: Path, size: dict[str, Any], tmp: Path) -> Any:
    out = tmp / f"{name}.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench.one", module, str(history), json.dumps(size), str(out)],
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        print(f"  {name}: FAILED (exit {done.returncode})", file=sys.stderr)
        return {"error": f"exit {done.returncode}"}
    result = json.loads(out.read_text())
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    print(f"  {name}: {result['wall_seconds']} s", file=sys.stderr)
    return result


def _figure(
    figure_id: str,
    value: float | None,
    unit: str,
    baseline_id: str,
    baseline: float | None,
    *,
    higher_is_better: bool = True,
    target: tuple[str, float] | None = None,
    note: str = "",
) -> dict[str, Any]:
    ratio = round(value / baseline, 3) if value is not None and baseline else None
    met: bool | None = None
    target_doc = None
    if target is not None:
        kind, bound = target  # "ratio>=", "value<", "value<="
        tested = ratio if kind.startswith("ratio") else value
        if tested is not None:
            met = {
                ">=": tested >= bound,
                "<": tested < bound,
                "<=": tested <= bound,
            }[kind.split("ratio")[-1].split("value")[-1]]
        target_doc = {"test": kind, "bound": bound}
    return {
        "id": figure_id,
        "value": value,
        "unit": unit,
        "baseline": {"id": baseline_id, "value": baseline},
        "ratio": ratio,
        "higher_is_better": higher_is_better,
        "target": target_doc,
        "met": met,
        "note": note,
    }


def figures(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure with its baseline from the same run (and the issue's target, if any)."""

    def get(name: str, key: str) -> Any:
        return results.get(name, {}).get(key)

    limit = get("raw", "consume_decode_per_s")
    floor = get("raw", "faust_bare_per_s")
    out = [
        _figure(
            "raw.consume_decode",
            limit,
            "msg/s",
            "raw.consume_decode",
            limit,
            note="aiokafka getmany + fastavro decode: the machine's limit",
        ),
        _figure(
            "raw.faust_bare",
            floor,
            "msg/s",
            "raw.consume_decode",
            limit,
            note="a bare Faust agent, decode + one table write: the platform's floor",
        ),
        _figure(
            "court.events",
            get("court", "events_per_s"),
            "events/s",
            "raw.faust_bare",
            floor,
            target=("ratio>=", 1.0),
        ),
        _figure(
            "court.steps_alone",
            get("court", "steps_events_per_s"),
            "events/s",
            "raw.faust_bare",
            floor,
            note="the court role's steps over the same messages, in process, no Kafka: the "
            "ceiling of any delivery while the steps cost what they cost",
        ),
        _figure(
            "court.events_vs_limit",
            get("court", "events_per_s"),
            "events/s",
            "raw.consume_decode",
            limit,
        ),
        _figure(
            "department.statuses",
            get("department", "statuses_per_s"),
            "statuses/s",
            "raw.faust_bare",
            floor,
        ),
        _figure(
            "department.statuses_vs_limit",
            get("department", "statuses_per_s"),
            "statuses/s",
            "raw.consume_decode",
            limit,
        ),
        _figure(
            "latency.median",
            get("latency", "median_ms"),
            "ms",
            "latency.hop_median",
            get("latency", "hop_median_ms"),
            higher_is_better=False,
            note="court event -> SanctionsApplied at a steady rate; baseline one broker hop",
        ),
        _figure(
            "latency.p99",
            get("latency", "p99_ms"),
            "ms",
            "latency.hop_p99",
            get("latency", "hop_p99_ms"),
            higher_is_better=False,
        ),
        _figure(
            "replay.jsonl",
            get("replay", "jsonl_events_per_s"),
            "events/s",
            "raw.consume_decode",
            limit,
            target=("ratio>=", 0.5),
        ),
        _figure(
            "replay.archive",
            get("replay", "archive_events_per_s"),
            "events/s",
            "raw.consume_decode",
            limit,
            target=("ratio>=", 0.5),
        ),
        _figure(
            "check.median",
            get("check", "median_ms"),
            "ms",
            "check.bare_handler_median",
            get("check", "baseline_median_ms"),
            higher_is_better=False,
        ),
        _figure(
            "check.p99",
            get("check", "p99_ms"),
            "ms",
            "check.bare_handler_p99",
            get("check", "baseline_p99_ms"),
            higher_is_better=False,
            target=("value<", 5.0),
        ),
        _figure(
            "check.requests",
            get("check", "requests_per_s"),
            "req/s",
            "check.bare_handler_requests",
            get("check", "baseline_requests_per_s"),
        ),
        _figure(
            "memory.memory_store",
            get("memory_store", "bytes_per_active_subject"),
            "B/active subject",
            "memory.json_payload",
            get("memory_store", "payload_bytes_per_active_subject"),
            higher_is_better=False,
            note="a court worker's RSS growth over the history / active subjects at its end",
        ),
        _figure(
            "memory.rocksdb",
            get("memory_rocksdb", "bytes_per_active_subject"),
            "B/active subject",
            "memory.memory_store",
            get("memory_store", "bytes_per_active_subject"),
            higher_is_better=False,
            target=("value<=", 1024.0),
            note="at this size: fixed costs (bounded memtables, block caches, buffers) included",
        ),
        _figure(
            "memory.memory_store_marginal",
            get("memory_store", "marginal_bytes_per_active_subject"),
            "B/active subject",
            "memory.json_payload",
            get("memory_store", "payload_bytes_per_active_subject"),
            higher_is_better=False,
            note="RSS growth per key over the last part of the history x keys per active subject",
        ),
        _figure(
            "memory.rocksdb_marginal",
            get("memory_rocksdb", "marginal_bytes_per_active_subject"),
            "B/active subject",
            "memory.memory_store_marginal",
            get("memory_store", "marginal_bytes_per_active_subject"),
            higher_is_better=False,
            target=("value<=", 1024.0),
            note="what one more active subject costs once the fixed costs are paid (at scale)",
        ),
        _figure(
            "memory.api_replicas",
            get("replicas", "bytes_per_active_subject"),
            "B/active subject",
            "memory.api_replicas_parsed",
            get("replicas", "parsed_bytes_per_active_subject"),
            higher_is_better=False,
            note="an api worker's rows of entries, subjects and every department, kept as JSON "
            "bytes; baseline the same rows as parsed dicts (the replicas until session 7)",
        ),
        _figure(
            "replicas.ingest",
            get("replicas", "ingest_us_per_row"),
            "µs/row",
            "replicas.parse",
            get("replicas", "parse_us_per_row"),
            higher_is_better=False,
            note="an api worker's CPU per changelog record as it catches up (parsed, packed, "
            "labelled, indexed); baseline each record parsed with json.loads, nothing kept",
        ),
    ]
    rows = results.get("scaling", {}).get("workers", [])
    for row in rows:
        cpu = row["cpu_seconds"]
        out.append(
            _figure(
                f"scaling.workers_{row['workers']}",
                row["events_per_s"],
                "events/s",
                "scaling.workers_1",
                rows[0]["events_per_s"],
                note=f"court role, {row['workers']} worker process(es); cores busy with it "
                f"{row['cpu_busy']:.0%} (workers {cpu['workers']} s, broker {cpu['broker']} s, "
                f"bench {cpu['bench']} s of CPU in {row['seconds']} s), with anything "
                f"{row.get('machine_busy', 0):.0%}",
            )
        )
    return out


def print_table(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    m = doc["machine"]
    table = Table(
        title=f"shixin bench ({doc['mode']}): {m['nproc']} cores, {m['cpu_model']}, "
        f"Python {m['python']}, {m['date']}"
    )
    for column in ("figure", "value", "baseline", "baseline value", "ratio", "target", "met"):
        table.add_column(column, justify="left" if column in ("figure", "baseline") else "right")
    for f in doc["figures"]:
        target = f["target"]
        table.add_row(
            f["id"],
            "-" if f["value"] is None else f"{f['value']:,} {f['unit']}",
            f["baseline"]["id"],
            "-" if f["baseline"]["value"] is None else f"{f['baseline']['value']:,}",
            "-" if f["ratio"] is None else f"{f['ratio']:.3f}",
            "" if target is None else f"{target['test']} {target['bound']}",
            "" if f["met"] is None else ("yes" if f["met"] else "NO"),
        )
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick")
    mode.add_argument("--toy", action="store_const", dest="mode", const="toy")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--only", default=None, help="comma-separated benchmark names")
    args = parser.parse_args(argv)
    mode_name = args.mode or "full"
    size = SIZES[mode_name]
    only = set(args.only.split(",")) if args.only else None
    began = time.monotonic()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shixin-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        history = tmp / "history.jsonl"
        events = write_history(history, size["debtors"], seed=7)
        print(f"history: {size['debtors']} debtors, {events} events", file=sys.stderr)
        for name, module, extra in RUNS:
            if only is not None and name not in only and module not in only:
                continue
            if module == "scaling" and not size["scaling_workers"]:
                continue
            results[name] = run_one(name, module, history, {**size, **extra}, tmp)
    doc = {
        "mode": mode_name,
        "command": "python -m bench" + (f" --{mode_name}" if mode_name != "full" else ""),
        "machine": machine(),
        "sizes": size,
        "history_events": events,
        "seconds": round(time.monotonic() - began, 1),
        "figures": figures(results),
        "results": results,
    }
    args.out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print_table(doc)
    print(f"{doc['seconds']} s; written to {args.out}")
    return doc


if __name__ == "__main__":
    main()
