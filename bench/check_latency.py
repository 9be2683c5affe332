"""Interception-check latency of the HTTP API (`GET /v1/check`) against a warm api server.

The server is the real `shixin.web.server.Api` (auth, query check, access log to a real broker,
metrics), its replicas loaded with a synthetic history folded by the very steps the live agents
call, holding `--subjects` subjects (default 100,000). It runs in a process of its own; this
process is the load: `--concurrency` clients on keep-alive connections. A baseline is measured
in the same run against a bare aiohttp handler returning a constant, in the same server process,
so the figures can be read as a ratio on any machine. The check's in-process cost (replica
lookup + `shixin.domain.checks.check`, no HTTP) is measured too.

    .venv/bin/python bench/check_latency.py [--subjects N] [--requests N] [--out FILE]

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
    """Replicas holding at least `subjects` subjects, from a synthetic court history."""
    from shixin.domain.entries import LifecycleError
    from shixin.domain.events import COURT_EVENT_ADAPTER
    from shixin.projections.steps import intake_step, subject_step
    from shixin.runtime.catalogs import get_catalog, get_policy
    from shixin.synthetic import generate_history
    from shixin.web.replicas import ReplicaState

    catalog = get_catalog()
    policy = get_policy("brief")
    state = ReplicaState(catalog)
    entries: dict[str, Any] = {}
    # about 1.2 subjects per debtor (related persons); a little more, then stop at `subjects`
    for n, raw in enumerate(generate_history(int(subjects / 1.1) + 10, seed)):
        event = COURT_EVENT_ADAPTER.validate_python(raw)
        try:
            facets, _ = intake_step(entries, event, f"court.events/0@{n}", policy)
        except LifecycleError:
            continue
        state.put_entry(event.entry_id, entries[event.entry_id])
        for facet in facets:
            subject_step(state.subjects, facet)
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
    Path(args.ready_file).write_text(
        json.dumps(
            {
                "ports": ports,
                "ids": random.Random(2).sample(ids, min(len(ids), 5000)),
                "subjects": len(state.subjects),
                "entries": len(state.entries),
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


async def measure(args: argparse.Namespace, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Baseline and check at each concurrency level."""
    check_port, base_port = info["ports"]
    paths = [f"/v1/check?subject_id={i}&action={ACTION}" for i in info["ids"]]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    levels = []
    for concurrency in (int(c) for c in str(args.concurrency).split(",")):
        out: dict[str, Any] = {"concurrency": concurrency}
        for name, url, these in (
            ("baseline", f"http://127.0.0.1:{base_port}", ["/baseline"]),
            ("check", f"http://127.0.0.1:{check_port}", paths),
        ):
            await load(url, these, min(2000, args.requests), concurrency, auth)  # warm up
            latencies, seconds = await load(url, these, args.requests, concurrency, auth)
            out[name] = _figures(latencies, seconds)
        check, base = out["check"], out["baseline"]
        out["ratio"] = {
            "median": round(check["median_ms"] / base["median_ms"], 2),
            "p99": round(check["p99_ms"] / base["p99_ms"], 2),
            "requests_per_s": round(check["requests_per_s"] / base["requests_per_s"], 2),
        }
        levels.append(out)
    return levels


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", default="1,16", help="clients; comma-separated levels")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=None)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args))
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
            figures = asyncio.run(measure(args, info))
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "subjects": info["subjects"],
        "entries": info["entries"],
        "load_seconds": round(loaded, 1),
        "cores": os.cpu_count(),
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
