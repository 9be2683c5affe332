"""The interception check over HTTP: `bench/check_latency.py` (a warm api server holding
`check_subjects` subjects, `check_concurrency` clients), baseline a bare aiohttp handler in the
same server process, same run."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

NEEDS_BROKER = False  # check_latency starts its own


def run(history: Path, size: dict[str, Any], bootstrap: str | None) -> dict[str, Any]:
    from bench import check_latency

    argv = [
        f"--subjects={size['check_subjects']}",
        f"--requests={size['check_requests']}",
        f"--concurrency={size['check_concurrency']}",
        f"--client={size.get('check_client', 'raw')}",
        # the api role runs on asyncio's own loop today; uvloop is measured apart (PERFORMANCE.md)
        f"--server-loop={size.get('check_server_loop', 'asyncio')}",
        f"--load-loop={size.get('check_load_loop', 'asyncio')}",
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its JSON; we return it
        result = check_latency.main(argv)
    level = result["levels"][0]
    return {
        "subjects": result["subjects"],
        "entries": result["entries"],
        "department_rows": result["department_rows"],
        "load_seconds": result["load_seconds"],
        "concurrency": level["concurrency"],
        "median_ms": level["check"]["median_ms"],
        "p99_ms": level["check"]["p99_ms"],
        "requests_per_s": level["check"]["requests_per_s"],
        "baseline_median_ms": level["baseline"]["median_ms"],
        "baseline_p99_ms": level["baseline"]["p99_ms"],
        "baseline_requests_per_s": level["baseline"]["requests_per_s"],
        # CPU per request: the server process, and this load generator on the same cores
        "server_cpu_us_per_request": level["check"]["server_cpu_us_per_request"],
        "load_cpu_us_per_request": level["check"]["load_cpu_us_per_request"],
        "baseline_server_cpu_us_per_request": level["baseline"]["server_cpu_us_per_request"],
        "baseline_load_cpu_us_per_request": level["baseline"]["load_cpu_us_per_request"],
        "in_process_check": result["in_process_check"],
        "client": result["client"],
        "server_loop": result["server_loop"],
    }
