"""How much of the offline replay is the department folds: `Replay.feed_lines` over a history,
as it is and with the court part only (intake and subject fold, no department), alternating.

    .venv/bin/shixin generate --debtors 3000 --seed 7 --out /tmp/h.jsonl
    .venv/bin/python bench/replay_split.py /tmp/h.jsonl [--rounds 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from shixin.audit.replay import Replay
from shixin.domain.subjects import SubjectStatus
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings


class CourtOnlyReplay(Replay):
    """The replay's court part alone: the entry and subject folds, no department's."""

    def department_folds(self, status: SubjectStatus) -> None:
        pass


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("history", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    lines = args.history.read_text("utf-8").splitlines()
    rates: dict[str, list[float]] = {"with departments": [], "court part only": []}
    for _ in range(args.rounds):
        for label, kind in (("with departments", Replay), ("court part only", CourtOnlyReplay)):
            replayer = kind(Settings(), get_catalog(), get_policy("brief"))
            started = time.perf_counter()
            replayer.feed_lines(lines)
            rates[label].append(round(replayer.events / (time.perf_counter() - started)))
    for label, values in rates.items():
        print(f"{label}: {', '.join(f'{v:,}' for v in values)} events/s")
    return rates


if __name__ == "__main__":
    main()
