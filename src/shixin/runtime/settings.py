"""Settings from the environment (prefix ``SHIXIN_``), one object for every role."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiToken(BaseModel):
    """A bearer token of the HTTP API: only its SHA-256 is kept (`shixin api token-hash`)."""

    name: str = Field(min_length=1, description="who holds it; written to the access log")
    role: str = Field(pattern=r"^(court|auditor|operator|department:[a-z0-9_.-]+)$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


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
    # every read of personal data through the HTTP API (who, which subjects, when)
    topic_access_log: str = "shixin.access-log"
    # Faust app ids are prefixed with this, so two deployments can share a cluster
    app_prefix: str = "shixin"

    catalog: str | None = Field(default=None, description="path to another catalog file")
    deadline_policy: str = "brief"
    # years of the PRC holiday calendar the `chinesecalendar` package does not hold yet, from
    # the State Council's notice (YAML; `shixin calendar`): every role and the replay must be
    # given the same file
    holiday_schedules: str | None = Field(default=None, description="path to a YAML file")
    # how often (seconds) the sla role looks for deadlines that passed while still open
    sla_check_interval: float = 5.0
    # how often (seconds) a department looks for retentions whose end date has passed
    retention_check_interval: float = 60.0
    # the replay keeps this many rows of each table as models (the least recently used beyond,
    # packed: about 60 KB per subject as models, 5 KB packed; a row used again is validated)
    replay_hot_rows: int = Field(default=20_000, ge=1)
    # when an agent acts at once: the wall clock (live) or the causing event's time (run/replay)
    action_clock: Literal["wall", "event"] = "wall"

    store: str = "memory://"
    # standby replicas of each table on other workers; 0 until failover with standbys is
    # proven to lose nothing (a promoted standby may lack its last buffered updates)
    standby_replicas: int = Field(default=0, ge=0)
    # Faust's data directory (RocksDB tables live here); unset: a fresh temporary directory
    data_dir: str | None = None
    # RocksDB store, per partition database of each table (a court worker with 8 partitions has
    # 16). Faust's defaults, 64 MB memtables (up to 3) and a 2 GB block cache per database, keep
    # every write of a small table in memory; these bound a worker's RocksDB memory to
    # databases x (write_buffer_size x max_write_buffer_number + block_cache_size), 12 MB for a
    # court worker (runtime/table_store.py; PERFORMANCE.md "Memory")
    rocksdb_write_buffer_size: int = Field(default=256 << 10, ge=64 << 10)
    rocksdb_max_write_buffer_number: int = Field(default=2, ge=2)
    rocksdb_target_file_size: int = Field(default=8 << 20, ge=1 << 20)
    rocksdb_block_cache_size: int = Field(default=256 << 10, ge=0)
    rocksdb_max_open_files: int = Field(default=256, ge=16)
    replication_factor: int = 1
    # exactly_once needs a broker with transactions (Apache Kafka); the embedded one has none
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    # how every client (Faust apps and plain aiokafka clients) talks to the brokers
    # (shixin.runtime.security builds the client options from these)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # the CA that signed the brokers' certificates (PEM); unset: the system's CAs
    ssl_cafile: str | None = None
    # a client certificate and key (PEM), for brokers that want mutual TLS
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    # the HTTP API's bearer tokens, a JSON list in SHIXIN_API_TOKENS; none: the public list only
    api_tokens: list[ApiToken] = []
    # access-log records each api worker keeps in memory for auditors' queries (the topic has all)
    access_log_memory: int = Field(default=100_000, ge=0)
    log_level: str = "info"
    log_format: Literal["json", "console"] = "json"

    # consumer group timings; the defaults suit the embedded broker (BROKER-NOTES.md)
    session_timeout: float = 3.0
    heartbeat_interval: float = 0.3
    rebalance_timeout: float = 1.0
    producer_linger: float = 0.02
    # how long the broker may hold a fetch when there is nothing new (Faust hard-codes 1.5 s,
    # which a broker that does not answer early adds to every hop: runtime/faust_consumer.py)
    fetch_max_wait: float = Field(default=0.1, gt=0)
    # an agent takes up to this many messages at a time (or what came within batch_within
    # seconds of the first), sends their outputs and waits for the broker once per batch
    # (streams/staged.py, streams/taking.py)
    batch_max: int = Field(default=500, ge=1)
    batch_within: float = 0.01
    # an input partition whose commits have not moved this long while later messages wait is
    # logged and read again from its last commit (streams/stalls.py)
    stall_after: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
