"""Workers as separate processes, as production runs them: publish, process, query, stop."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from bench.workers import free_port

from shixin.domain.calendar import library_years
from tests.builders import listed, person_id, write_jsonl
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import SHIXIN, shixin


def _get(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


LAST_YEAR = library_years()[1]


def test_worker_processes_what_publish_sends_and_query_shows_it(tmp_path: Path, bootstrap: str):
    settings = isolated_settings()
    port = free_port()
    # next year's holidays supplied (made up here): the worker counts deadlines with them
    (tmp_path / "holidays.yaml").write_text(
        f"- year: {LAST_YEAR + 1}\n  holidays: [{LAST_YEAR + 1}-01-01]\n", "utf-8"
    )
    env = {
        **settings_env(settings, bootstrap),
        "SHIXIN_WEB_PORT": str(port),
        "SHIXIN_HOLIDAY_SCHEDULES": str(tmp_path / "holidays.yaml"),
    }
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
        # probes: a worker without the api role still answers health, readiness and metrics
        base = f"http://127.0.0.1:{port}"
        assert json.loads(_get(f"{base}/healthz")[1])["status"] == "ok"
        status, body = _get(f"{base}/readyz")
        assert status == 200, body
        assert set(json.loads(body)["apps"]) == {
            f"{settings.app_prefix}-{a}"
            for a in ("court", "department-aviation", "department-immigration")
        }
        # where each input partition stands: the court processed one event, so its partition
        # can be committed up to 1 (committed already, or acknowledged from the commit base)
        court = json.loads(body)["apps"][f"{settings.app_prefix}-court"]["consuming"]
        events = [v for k, v in court.items() if k.startswith(settings.topic_court_events)]
        reach = sorted(
            v["base"] + (v["acked"][1] if v["acked"] and v["acked"][0] == v["base"] else 0)
            for v in events
        )
        assert reach == [0] * (len(events) - 1) + [1], court
        metrics = _get(f"{base}/metrics")[1]
        assert "shixin_worker_ready 1.0" in metrics
        assert f"shixin_calendar_covered_until_year {LAST_YEAR + 1}.0" in metrics
        court_events = f'topic="{settings.topic_court_events}"'
        assert any(
            court_events in line and line.endswith(" 1.0")
            for line in metrics.splitlines()
            if line.startswith("shixin_worker_next_offset")
        ), metrics
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
