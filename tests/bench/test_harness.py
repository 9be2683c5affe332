"""The benchmark harness runs end to end at a toy size and reports every figure with its
baseline. Timings are never asserted here: only that each figure was measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "raw.consume_decode",
    "raw.faust_bare",
    "court.events",
    "court.steps_alone",
    "department.statuses",
    "latency.median",
    "latency.p99",
    "replay.jsonl",
    "replay.archive",
    "check.median",
    "check.p99",
    "check.requests",
    "memory.memory_store",
    "memory.rocksdb",
    "memory.api_replicas",
    "replicas.ingest",
    "scaling.workers_1",
    "scaling.workers_2",
}
# figures from differences (RSS over the last part of a history): present, of any sign at a toy size
DIFFERENCES = {"memory.memory_store_marginal", "memory.rocksdb_marginal"}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_toy_run_reports_every_figure_with_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "-m", "bench", "--toy", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=600,
        capture_output=True,
    )
    doc = json.loads(out.read_text())
    assert {"nproc", "cpu_model", "python", "date"} <= set(doc["machine"])
    by_id = {f["id"]: f for f in doc["figures"]}
    assert set(by_id) >= FIGURES | DIFFERENCES
    for figure_id in DIFFERENCES:
        assert by_id[figure_id]["value"] is not None, by_id[figure_id]
    for figure_id in FIGURES:
        figure = by_id[figure_id]
        assert figure["value"] is not None and figure["value"] > 0, figure
        assert figure["baseline"]["value"] is not None and figure["baseline"]["value"] > 0, figure
        assert figure["ratio"] is not None, figure
