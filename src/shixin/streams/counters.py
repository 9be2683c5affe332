"""In-process counters every role of a process shares."""

from __future__ import annotations

from collections import Counter, defaultdict

# (app id, topic, partition) -> next offset to process; read by `run` to know when all is idle
PROGRESS: dict[tuple[str, str, int], int] = defaultdict(int)
# counted happenings the demo's summary and /metrics show (published, dead letters, feedback by
# type, agent crashes, partition stalls)
STATS: Counter[str] = Counter()
