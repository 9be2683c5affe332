"""Interception-check latency of the HTTP API (`GET /v1/check`) against a warm api server.

The server is the real `shixin.web.server.Api` (auth, query check, access log to a real broker,
metrics), its replicas loaded with a synthetic history folded by the very steps the live agents
call, holding `--subjects` subjects (default 100,000). It runs in a process of its own; this
process is the load: `--concurrency` clients on keep-alive connections (`--client raw`, the
default: prepared requests on asyncio protocols, about a quarter of the CPU per request of
aiohttp's client, which `--client aiohttp` uses; the server and the load share the machine's
cores, so a costly load generator is measured as server latency). A baseline is measured
in the same run against a bare aiohttp handler returning a constant, in the same server process,
so the figures can be read as a ratio on any machine. The check's in-process cost (replica
lookup + `shixin.domain.checks.check`, no HTTP) is measured too, and the CPU time the server
and the load spent per request. `--server-loop uvloop` / `--load-loop uvloop` run either on
uvloop (when installed).

    .venv/bin/python bench/check_latency.py [--subjects N] [--requests N] [--out FILE]
        [--concurrency 1,16] [--client raw|aiohttp] [--server-loop|--load-loop asyncio|uvloop]

Writes its figures as JSON to stdout (and to --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACTION = "air.ticket"
TOKEN = "bench-auditor-token"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _figures(latencies: list[float], seconds: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "median_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 3),
        "requests_per_s": round(len(latencies) / seconds, 1),
    }


# --- the server process ---------------------------------------------------------------------


def build_state(subjects: int, seed: int) -> tuple[Any, Any, list[str]]:
    """Replicas holding at least `subjects` subjects, from a synthetic court history, with the
    rows of the departments whose measures block the action checked."""
    from shixin.domain.entries import LifecycleError
    from shixin.domain.events import COURT_EVENT_ADAPTER
    from shixin.projections.steps import department_step, intake_step, subject_step
    from shixin.runtime.catalogs import get_catalog, get_policy
    from shixin.synthetic import generate_history
    from shixin.web.replicas import ReplicaState

    catalog = get_catalog()
    policy = get_policy("brief")
    state = ReplicaState(catalog)
    entries: dict[str, Any] = {}
    # the departments whose rows a check of ACTION reads (retentions): folded as live
    blocking = {d for m in catalog.measures_blocking(ACTION) for d in m.departments}
    departments = [d for d in catalog.departments if d.id in blocking]
    # about 1.2 subjects per debtor (related persons); a little more, then stop at `subjects`
    for n, raw in enumerate(generate_history(int(subjects / 1.1) + 10, seed)):
        event = COURT_EVENT_ADAPTER.validate_python(raw)
        try:
            facets, _ = intake_step(entries, event, f"court.events/0@{n}", policy)
        except LifecycleError:
            continue
        state.put_entry(event.entry_id, entries[event.entry_id])
        for facet in facets:
            status = subject_step(state.subjects, facet)
            for department in departments if status is not None else ():
                department_step(
                    state.sanctions[department.id], status, catalog, department, None, policy
                )
        if len(state.subjects) >= subjects:
            break
    return catalog, state, sorted(state.subjects)


async def serve(args: argparse.Namespace) -> None:
    from aiohttp import web
    from aiokafka import AIOKafkaProducer

    from shixin.runtime.admin import ensure_topics
    from shixin.runtime.logging import configure_logging
    from shixin.runtime.settings import ApiToken, Settings
    from shixin.web.auth import hash_token
    from shixin.web.role import freeze_heap
    from shixin.web.server import Api

    configure_logging("warning", "console")
    catalog, state, ids = build_state(args.subjects, args.seed)
    settings = Settings(
        api_tokens=[ApiToken(name="bench", role="auditor", sha256=hash_token(TOKEN))],
        topic_access_log=f"bench-{os.getpid()}.access-log",
    )
    await ensure_topics(args.bootstrap, settings, [settings.topic_access_log])
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, linger_ms=5, acks="all")
    await producer.start()
    api = Api(settings, catalog, state, producer)

    async def constant(request: web.Request) -> web.Response:
        return web.json_response({"allowed": True})

    bare = web.Application()
    bare.router.add_get("/baseline", constant)
    runners = [web.AppRunner(api.app(), access_log=None), web.AppRunner(bare, access_log=None)]
    ports = []
    for runner in runners:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    # the check alone, in process: replica lookup + the pure check, no HTTP
    today = __import__("datetime").date.today()
    sample = random.Random(1).choices(ids, k=5000)
    for subject_id in sample[:500]:
        api.read.check(subject_id, ACTION, today)  # warm
    inner = []
    for subject_id in sample:
        started = time.perf_counter()
        api.read.check(subject_id, ACTION, today)
        inner.append(time.perf_counter() - started)
    freeze_heap()  # as an api worker does once its replicas have caught up (web/role.py)
    Path(args.ready_file).write_text(
        json.dumps(
            {
                "ports": ports,
                "pid": os.getpid(),
                "ids": random.Random(2).sample(ids, min(len(ids), 5000)),
                "subjects": len(state.subjects),
                "entries": len(state.entries),
                "department_rows": sum(len(rows) for rows in state.sanctions.values()),
                "in_process_check": {
                    "median_us": round(statistics.median(inner) * 1e6, 1),
                    "p99_us": round(_percentile(inner, 0.99) * 1e6, 1),
                },
            }
        )
    )
    await asyncio.Event().wait()  # until the load process ends us


# --- the load process -----------------------------------------------------------------------


async def load(
    url: str, paths: list[str], requests: int, concurrency: int, headers: dict[str, str]
) -> tuple[list[float], float]:
    import aiohttp

    latencies: list[float] = []
    queue = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def client(k: int) -> None:
            for n in queue:
                path = paths[(n * 7919 + k) % len(paths)]
                started = time.perf_counter()
                async with http.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status}")
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(concurrency)))
        return latencies, time.perf_counter() - began


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends a prepared GET and reads the answer by its
    Content-Length: a load generator that costs far less CPU than aiohttp's client, so that on a
    machine whose cores the server shares, less of them goes to making the load."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:head_end]).lower()
        at = head.find(b"content-length:")
        line_end = head.find(b"\r\n", at)
        length = int(head[at + 15 : line_end if line_end >= 0 else len(head)])
        if len(self.buffer) < head_end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[: head_end + 4 + length]
        self.waiter.set_result(status)
        self.waiter = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("closed"))

    async def get(self, request: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def load_raw(
    url: str, paths: list[str], requests: int, concurrency: int, headers: dict[str, str]
) -> tuple[list[float], float]:
    """The same load as `load`, over `_Connection`s."""
    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("http://").split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    prepared = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for path in paths
    ]
    latencies: list[float] = []
    queue = iter(range(requests))

    async def client(k: int) -> None:
        transport, connection = await loop.create_connection(_Connection, host, int(port))
        try:
            for n in queue:
                started = time.perf_counter()
                status = await connection.get(prepared[(n * 7919 + k) % len(prepared)])
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
                latencies.append(time.perf_counter() - started)
        finally:
            transport.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return latencies, time.perf_counter() - began


async def measure(args: argparse.Namespace, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Baseline and check at each concurrency level, with the CPU time the server and this load
    process spent on each (microseconds per request): on a machine where both share the cores,
    the load generator's own cost bounds what can be measured."""
    check_port, base_port = info["ports"]
    server_pid = info["pid"]
    client = load_raw if args.client == "raw" else load
    paths = [f"/v1/check?subject_id={i}&action={ACTION}" for i in info["ids"]]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    levels = []
    for concurrency in (int(c) for c in str(args.concurrency).split(",")):
        out: dict[str, Any] = {"concurrency": concurrency}
        for name, url, these in (
            ("baseline", f"http://127.0.0.1:{base_port}", ["/baseline"]),
            ("check", f"http://127.0.0.1:{check_port}", paths),
        ):
            await client(url, these, min(2000, args.requests), concurrency, auth)  # warm up
            server_cpu, load_cpu = _cpu_seconds(server_pid), sum(os.times()[:2])
            latencies, seconds = await client(url, these, args.requests, concurrency, auth)
            server_cpu = _cpu_seconds(server_pid) - server_cpu
            load_cpu = sum(os.times()[:2]) - load_cpu
            out[name] = {
                **_figures(latencies, seconds),
                "server_cpu_us_per_request": round(1e6 * server_cpu / len(latencies), 1),
                "load_cpu_us_per_request": round(1e6 * load_cpu / len(latencies), 1),
            }
        check, base = out["check"], out["baseline"]
        out["ratio"] = {
            "median": round(check["median_ms"] / base["median_ms"], 2),
            "p99": round(check["p99_ms"] / base["p99_ms"], 2),
            "requests_per_s": round(check["requests_per_s"] / base["requests_per_s"], 2),
        }
        levels.append(out)
    return levels


def _run(coroutine: Any, loop: str) -> Any:
    """Run a coroutine on asyncio's own event loop or on uvloop's."""
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", default="1,16", help="clients; comma-separated levels")
    parser.add_argument("--seed", type=int, default=7)
    loops = ("asyncio", "uvloop")
    parser.add_argument("--server-loop", choices=loops, default="asyncio")
    parser.add_argument("--load-loop", choices=loops, default="asyncio")
    parser.add_argument(
        "--client",
        choices=("aiohttp", "raw"),
        default="raw",
        help="the load generator: prepared requests on asyncio protocols (a quarter of aiohttp's "
        "client's CPU per request, so more of shared cores is left to the server), or aiohttp's",
    )
    parser.add_argument("--out", default=None)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _run(serve(args), args.server_loop)
        return {}

    from shixin.runtime.broker import EmbeddedBroker

    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready.json"
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                f"--subjects={args.subjects}",
                f"--seed={args.seed}",
                f"--bootstrap={broker.bootstrap}",
                f"--ready-file={ready}",
                f"--server-loop={args.server_loop}",
            ]
        )
        try:
            while not ready.exists():
                if server.poll() is not None:
                    raise SystemExit(f"the server process ended ({server.returncode})")
                time.sleep(0.5)
            time.sleep(0.2)  # the file is written whole before the loop waits
            info = json.loads(ready.read_text())
            loaded = time.perf_counter() - started
            figures = _run(measure(args, info), args.load_loop)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "subjects": info["subjects"],
        "entries": info["entries"],
        "department_rows": info["department_rows"],
        "load_seconds": round(loaded, 1),
        "cores": os.cpu_count(),
        "server_loop": args.server_loop,
        "load_loop": args.load_loop,
        "client": args.client,
        "levels": figures,
        "in_process_check": info["in_process_check"],
    }
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return result


if __name__ == "__main__":
    main()
