"""Run one benchmark in this process, with its own embedded broker:
`python -m bench.one NAME HISTORY SIZE_JSON OUT_JSON` (the harness calls it)."""

from __future__ import annotations

import asyncio
import importlib
import json
import signal
import sys
from pathlib import Path


def main() -> None:
    name, history, size_text, out = sys.argv[1:5]
    # SIGTERM unwinds like an exception: worker processes a benchmark started are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from bench.common import quiet
    from shixin.runtime.broker import EmbeddedBroker

    quiet()
    module = importlib.import_module(f"bench.{name}")
    size = json.loads(size_text)
    if not getattr(module, "NEEDS_BROKER", True):
        result = module.run(Path(history), size, None)  # synchronous: it runs its own loops
    else:
        with EmbeddedBroker() as broker:
            result = asyncio.run(module.run(Path(history), size, broker.bootstrap))
    Path(out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
