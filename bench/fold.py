"""The department fold alone: every `on_status` call a replay of a history makes (the subject's
status, the department's row before it), timed again without the replay around it. The
department folds are most of the replay's time (bench/replay_split.py); this isolates them.

    .venv/bin/shixin generate --debtors 3000 --seed 7 --out /tmp/h.jsonl
    .venv/bin/python bench/fold.py /tmp/h.jsonl [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

from shixin.audit.replay import Replay
from shixin.domain.sanctions import DepartmentSanction, on_status
from shixin.domain.subjects import SubjectStatus
from shixin.projections.steps import ModelStore
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings


class RecordingReplay(Replay):
    """A replay that keeps each department's row before every status it folds."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.folds: list[tuple[DepartmentSanction | None, SubjectStatus, Any]] = []

    def department_folds(self, status: SubjectStatus) -> None:
        for department in self.folding_departments(status):
            store = self.sanctions[department.id]
            assert isinstance(store, ModelStore)
            self.folds.append((store.model(status.subject_id), status, department))  # type: ignore[arg-type]
        super().department_folds(status)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("history", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    catalog, policy = get_catalog(), get_policy("brief")
    replay = RecordingReplay(Settings(), catalog, policy)
    replay.feed_lines(args.history.read_text("utf-8").splitlines())
    folds = replay.folds
    best = float("inf")
    gc.disable()
    try:
        for _ in range(args.rounds):
            started = time.perf_counter()
            for row, status, department in folds:
                on_status(row, status, catalog, department, None, policy)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    result = {"folds": len(folds), "best_seconds": round(best, 3)}
    result["us_per_fold"] = round(best / len(folds) * 1e6, 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
