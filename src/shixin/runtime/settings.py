"""Settings from the environment (prefix ``SHIXIN_``), one object for every role."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIXIN_", extra="ignore")

    # host:port list; unset means "start the embedded broker"
    kafka_bootstrap: str | None = None
    partitions: int = Field(default=8, ge=1, le=1024)

    topic_court_events: str = "court.events"
    topic_subject_status: str = "subject.status"
    topic_sanction_events: str = "sanction.events"
    # a person's confirmations of manual departments' tasks; the department's agent records them
    # and then reports them on sanction.events (it is the only writer of its feedback)
    topic_confirmations: str = "department.confirmations"
    topic_sla_events: str = "sla.events"
    topic_dead_letters: str = "shixin.dead-letters"
    # Faust app ids are prefixed with this, so two deployments can share a cluster
    app_prefix: str = "shixin"

    catalog: str | None = Field(default=None, description="path to another catalog file")
    deadline_policy: str = "brief"
    # how often (seconds) the sla role looks for deadlines that passed while still open
    sla_check_interval: float = 5.0
    # how often (seconds) a department looks for retentions whose end date has passed
    retention_check_interval: float = 60.0
    # when an agent acts at once: the wall clock (live) or the causing event's time (run/replay)
    action_clock: Literal["wall", "event"] = "wall"

    store: str = "memory://"
    # standby replicas of each table on other workers; 0 until failover with standbys is
    # proven to lose nothing (a promoted standby may lack its last buffered updates)
    standby_replicas: int = Field(default=0, ge=0)
    # Faust's data directory (RocksDB tables live here); unset: a fresh temporary directory
    data_dir: str | None = None
    replication_factor: int = 1
    # exactly_once needs a broker with transactions (Apache Kafka); the embedded one has none
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    log_level: str = "info"
    log_format: Literal["json", "console"] = "json"

    # consumer group timings; the defaults suit the embedded broker (BROKER-NOTES.md)
    session_timeout: float = 3.0
    heartbeat_interval: float = 0.3
    rebalance_timeout: float = 1.0
    producer_linger: float = 0.02


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
