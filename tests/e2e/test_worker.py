"""Workers as separate processes, as production runs them: publish, process, query, stop."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.builders import listed, person_id, write_jsonl
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import SHIXIN, shixin


def test_worker_processes_what_publish_sends_and_query_shows_it(tmp_path: Path, bootstrap: str):
    settings = isolated_settings()
    env = settings_env(settings, bootstrap)
    p = person_id(4242)
    worker = subprocess.Popen(
        [*SHIXIN, "worker", "--role", "court,department:aviation,department:immigration"],
        env={**__import__("os").environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        source = write_jsonl(tmp_path / "one.jsonl", [listed("W1", p)])
        published = shixin("publish", str(source), env=env)
        assert published.returncode == 0, published.stderr
        view: dict = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            result = shixin("query", "subject", p, "--json", env=env)
            assert result.returncode == 0, result.stderr
            view = json.loads(result.stdout)
            states = {
                d: view["sanctions"].get(d, {}).get("state") for d in ("aviation", "immigration")
            }
            if set(states.values()) == {"applied"}:
                break
            time.sleep(1)
        assert view["subject"]["sanctionable"] is True
        assert view["subject"]["active_entry_ids"] == ["W1"]
        assert view["sanctions"]["aviation"] == {
            "state": "applied",
            "measures": ["consumption.flights"],
            "entry_ids": ["W1"],
        }
        assert view["sanctions"]["immigration"]["state"] == "applied"
        human = shixin("query", "subject", p, env=env)
        assert "sanctionable" in human.stdout and "aviation: applied" in human.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
