"""The Faust app factory: one app per role, so each role is its own consumer group."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import faust

from shixin.runtime.faust_consumer import install_faust_consumer_corrections
from shixin.runtime.offsets import install_faust_end_offset_correction
from shixin.runtime.security import faust_options
from shixin.runtime.settings import Settings
from shixin.runtime.table_store import table_class
from shixin.streams.counters import PROGRESS, STATS
from shixin.streams.stalls import StallWatch


@functools.cache
def _process_data_dir() -> Path:
    """One temporary data directory for every app of this process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="shixin-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def make_app(role_id: str, settings: Settings, bootstrap: str, **overrides: Any) -> faust.App:
    install_faust_end_offset_correction()
    install_faust_consumer_corrections()
    app_id = f"{settings.app_prefix}-{role_id}"
    if settings.data_dir:  # Faust makes only the last level of its directory
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "broker": f"kafka://{bootstrap}",
        "store": settings.store,
        # one directory per app: a process may host many apps (`departments`)
        "datadir": str(Path(settings.data_dir or _process_data_dir()) / app_id),
        "web_enabled": False,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "broker_session_timeout": settings.session_timeout,
        "broker_heartbeat_interval": settings.heartbeat_interval,
        "broker_rebalance_timeout": settings.rebalance_timeout,
        "producer_linger": settings.producer_linger,
        "processing_guarantee": settings.processing_guarantee,
        "consumer_auto_offset_reset": "earliest",
        "table_standby_replicas": settings.standby_replicas,
        # bounded RocksDB memtables and block cache for every table (runtime/table_store.py)
        "Table": table_class(settings),
        **faust_options(settings),
    }
    options.update(overrides)
    app = faust.App(app_id, **options)
    app.shixin_fetch_max_wait = settings.fetch_max_wait  # type: ignore[attr-defined]
    StallWatch(app, settings.stall_after).install()
    return app


def mark_processed(app: faust.App, message: Any) -> None:
    PROGRESS[(app.conf.id, message.topic, message.partition)] = message.offset + 1


def count_feedback(kind: str) -> None:
    STATS[f"feedback.{kind}"] += 1
    if kind == "SanctionsApplied" and "first_applied_at" not in STATS:
        STATS["first_applied_at"] = time.monotonic()  # type: ignore[assignment]


def guarded(app: faust.App, handler: Any) -> Any:
    """An agent body that counts its crashes, so that `run` stops waiting instead of hanging."""

    async def agent(stream: Any) -> None:
        try:
            await handler(stream)
        except Exception:
            STATS["agent_crashes"] += 1
            raise

    agent.__name__ = getattr(handler, "__name__", "agent")
    return agent
