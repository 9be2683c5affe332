"""Role workers as processes of their own (`shixin worker --role R`), watched from outside: their
progress (each worker's `/metrics`: the next offset per topic and partition), their resident
memory and CPU time (`/proc`), and the embedded broker's CPU time."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_SESSION: Any = None  # one aiohttp session for every probe of this process (one event loop)
SHIXIN = [sys.executable, "-m", "shixin.cli", "--log-level"]
_TICKS = os.sysconf("SC_CLK_TCK")
_PROGRESS = re.compile(
    r'^shixin_worker_next_offset\{app="([^"]*)",partition="(\d+)",topic="([^"]*)"\} ([0-9.e+]+)$'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core (/proc/stat): what
    other work on a shared machine took is the busy share not spent by the measured processes."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / _TICKS, sum(fields) / _TICKS


def rss_of(pid: int) -> int:
    """Resident set size of a process now (bytes), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def broker_pid(bootstrap: str) -> int | None:
    """The embedded broker serving `bootstrap` (its listener URL is on its command line)."""
    wanted = f"tcp://{bootstrap}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def worker_env(settings: Any, bootstrap: str, **extra: str) -> dict[str, str]:
    """The environment that makes a worker process use exactly these settings' names."""
    env = {
        **os.environ,
        "SHIXIN_KAFKA_BOOTSTRAP": bootstrap,
        "SHIXIN_PARTITIONS": str(settings.partitions),
        "SHIXIN_APP_PREFIX": settings.app_prefix,
        "SHIXIN_ACTION_CLOCK": settings.action_clock,
        "SHIXIN_LOG_LEVEL": "warning",
        "SHIXIN_STORE": settings.store,
    }
    for name in type(settings).model_fields:
        if name.startswith("topic_"):
            env[f"SHIXIN_{name.upper()}"] = getattr(settings, name)
    env.update(extra)
    return env


class WorkerProcess:
    """One `shixin worker --role ROLE` process with its own health/metrics port."""

    def __init__(self, role: str, env: dict[str, str], log: Path) -> None:
        self.role = role
        self.port = free_port()
        self.env = {**env, "SHIXIN_WEB_PORT": str(self.port)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *SHIXIN,
                    self.env.get("SHIXIN_LOG_LEVEL", "warning"),
                    "worker",
                    "--role",
                    self.role,
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    async def get(self, path: str) -> tuple[int, str]:
        import aiohttp

        global _SESSION
        if _SESSION is None or _SESSION.closed:
            _SESSION = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            async with _SESSION.get(f"http://127.0.0.1:{self.port}{path}") as response:
                return response.status, await response.text()
        except (TimeoutError, aiohttp.ClientError, OSError):
            return 0, ""


async def close_session() -> None:
    """Close the HTTP session the probes share (at the end of a benchmark's loop)."""
    global _SESSION
    if _SESSION is not None:
        await _SESSION.close()
        _SESSION = None


async def all_ready(workers: list[WorkerProcess], timeout: float, steady: float = 2.0) -> None:
    """Until every worker's /readyz has said 200 for `steady` seconds on end (group joined,
    partitions assigned, no rebalance going on)."""
    deadline = time.monotonic() + timeout
    since: float | None = None
    while True:
        check_alive(workers)
        states = await asyncio.gather(*(w.get("/readyz") for w in workers))
        if all(status == 200 for status, _ in states):
            since = since or time.monotonic()
            if time.monotonic() - since >= steady:
                return
        else:
            since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers were not ready in {timeout} s")
        await asyncio.sleep(0.2)


def check_alive(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        if worker.process is not None and worker.process.poll() is not None:
            raise RuntimeError(
                f"worker {worker.role} (pid {worker.pid}) exited with {worker.process.returncode}; "
                f"see {worker.log}"
            )


async def progress(workers: list[WorkerProcess], app_id: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the next offset the app will process, the furthest any worker got
    (a partition that moved between workers is reported by both). Raises if a worker died."""
    check_alive(workers)
    out: dict[tuple[str, int], int] = {}
    for status, text in await asyncio.gather(*(w.get("/metrics") for w in workers)):
        if status != 200:
            continue
        for line in text.splitlines():
            match = _PROGRESS.match(line)
            if match and match.group(1) == app_id:
                key = (match.group(3), int(match.group(2)))
                out[key] = max(out.get(key, 0), int(float(match.group(4))))
    return out
