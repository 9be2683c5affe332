"""deploy/docker-compose.yml: valid by the Compose specification's own JSON schema (and by
Debian's docker-compose where it is installed), and consistent with the code: topics, settings,
roles, ports and the image."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml

from shixin.domain.calendar import parse_schedules
from shixin.runtime.admin import topic_configs
from shixin.runtime.settings import Settings
from tests.deploy.conftest import DEPLOY, ROOT

COMPOSE = DEPLOY / "docker-compose.yml"
TOPICS_SCRIPT = DEPLOY / "kafka" / "create-topics.sh"
ROLE_SERVICES = {"court": "court", "departments": "departments", "sla": "sla", "api": "api"}


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def env(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    assert isinstance(value, dict), "environment as a mapping"
    return {k: str(v) for k, v in value.items()}


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_is_valid_by_the_compose_specification() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    """The check above would catch a mistake: the same file with one wrong field fails."""
    broken = compose()
    broken["services"]["api"]["ports"] = {"6066": 6066}  # must be a list
    broken["services"]["court"]["restart_policy"] = "always"  # no such service field
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = check_jsonschema(path)
    assert result.returncode == 1, result.stdout
    assert "ports" in result.stdout and "restart_policy" in result.stdout


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is not installed (apt-get install docker-compose); "
    "the Compose specification schema above still validates the file",
)
def test_docker_compose_config_accepts_it() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=DEPLOY,
    )
    assert result.returncode == 0, result.stderr


def test_three_kraft_nodes_of_the_official_image() -> None:
    services = compose()["services"]
    nodes = {
        name: s
        for name, s in services.items()
        if name.startswith("kafka-") and name != "kafka-init"
    }
    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    voters = {env(s)["KAFKA_CONTROLLER_QUORUM_VOTERS"] for s in nodes.values()}
    assert len(voters) == 1, "every node knows the same quorum"
    expected = {f"{env(s)['KAFKA_NODE_ID']}@{name}:9093" for name, s in nodes.items()}
    assert set(voters.pop().split(",")) == expected
    for name, service in nodes.items():
        e = env(service)
        assert service["image"].startswith("apache/kafka:") and not service["image"].endswith(
            ":latest"
        )
        assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert f"INTERNAL://{name}:9092" in e["KAFKA_ADVERTISED_LISTENERS"]
        assert e["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert any(v.endswith(":/var/lib/kafka/data") for v in service["volumes"])
    ids = [env(s)["KAFKA_NODE_ID"] for s in nodes.values()]
    assert len(set(ids)) == 3
    host_ports = [p.split(":")[0] for s in nodes.values() for p in s["ports"]]
    assert len(set(host_ports)) == 3


def test_roles_are_services_of_the_image_built_here() -> None:
    services = compose()["services"]
    for role, name in ROLE_SERVICES.items():
        service = services[name]
        assert service["command"] == ["worker", "--role", role]
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        assert service["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    assert services["court"]["deploy"]["replicas"] == 2


def test_role_settings_are_real_settings_of_a_production_cluster() -> None:
    services = compose()["services"]
    known = {f"SHIXIN_{name.upper()}" for name in Settings.model_fields}
    brokers = {n for n in services if n.startswith("kafka-") and n != "kafka-init"}
    for name in ROLE_SERVICES.values():
        e = env(services[name])
        assert set(e) <= known, f"{name}: unknown settings {set(e) - known}"
        settings = Settings(**{k.removeprefix("SHIXIN_").lower(): v for k, v in e.items()})
        assert settings.processing_guarantee == "exactly_once"
        assert settings.store == "rocksdb://"
        assert settings.standby_replicas >= 1
        assert settings.replication_factor == 3
        assert settings.kafka_bootstrap is not None
        hosts = {a.rsplit(":", 1)[0] for a in settings.kafka_bootstrap.split(",")}
        assert hosts == brokers
        assert all(a.endswith(":9092") for a in settings.kafka_bootstrap.split(","))
        assert settings.session_timeout < 90, "Faust: below broker_request_timeout"
        # every role counts deadlines with the same supplied holidays (the file shipped: none)
        mounts = dict(v.rsplit(":", 1)[0].split(":") for v in services[name]["volumes"])
        shipped = next(
            host for host, inside in mounts.items() if inside == settings.holiday_schedules
        )
        assert parse_schedules((DEPLOY / shipped).read_text("utf-8")) == []
    init = env(services["kafka-init"])
    assert init["PARTITIONS"] == env(services["court"])["SHIXIN_PARTITIONS"]
    assert init["REPLICATION"] == env(services["court"])["SHIXIN_REPLICATION_FACTOR"]


def test_api_port_probe_and_prometheus() -> None:
    services = compose()["services"]
    port = env(services["api"])["SHIXIN_WEB_PORT"]
    assert services["api"]["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    prometheus = services["prometheus"]
    mounted = {v.split(":")[0]: v.split(":")[1] for v in prometheus["volumes"]}
    config_path = DEPLOY / next(src for src in mounted if src.endswith("prometheus.yml"))
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sorted(sd["names"]) == sorted(ROLE_SERVICES.values())
    assert str(sd["port"]) == port


def test_topic_job_creates_every_public_topic_as_the_code_says() -> None:
    services = compose()["services"]
    init = services["kafka-init"]
    script = next(v for v in init["volumes"] if "create-topics.sh" in v)
    assert (DEPLOY / script.split(":")[0]).resolve() == TOPICS_SCRIPT
    assert init["entrypoint"][-1] == script.split(":")[1]
    assert {d for d in init["depends_on"]} == {"kafka-1", "kafka-2", "kafka-3"}
    lines = [
        shlex.split(line)
        for line in TOPICS_SCRIPT.read_text(encoding="utf-8").splitlines()
        if line.startswith("create ")
    ]
    in_script = {words[1]: dict(w.split("=", 1) for w in words[2:]) for words in lines}
    wanted = topic_configs(Settings(replication_factor=1))
    assert in_script == wanted


def test_topic_job_runs_kafka_topics_with_the_right_arguments(tmp_path: Path) -> None:
    """Run the job's script for real, with a stand-in kafka-topics.sh that records its calls."""
    log = tmp_path / "calls"
    fake = tmp_path / "kafka-topics.sh"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", str(TOPICS_SCRIPT)],
        env={
            **os.environ,
            "KAFKA_BIN": str(tmp_path),
            "BOOTSTRAP": "k1:9092,k2:9092",
            "PARTITIONS": "12",
            "REPLICATION": "3",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    calls = [shlex.split(line) for line in log.read_text(encoding="utf-8").splitlines()]
    created = {}
    for args in calls:
        if "--create" not in args:
            continue
        value = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
        assert value["--bootstrap-server"] == "k1:9092,k2:9092"
        assert (value["--partitions"], value["--replication-factor"]) == ("12", "3")
        assert "--if-not-exists" in args
        configs = dict(
            args[i + 1].split("=", 1) for i in range(len(args) - 1) if args[i] == "--config"
        )
        created[value["--topic"]] = configs
    assert created == topic_configs(Settings(replication_factor=3))
    assert created["court.events"]["retention.ms"] == "-1"
    assert created["sanction.events"]["retention.ms"] == "-1"


def test_dockerfile_parses_and_runs_shixin_as_a_user() -> None:
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    froms = [c.value[0] for c in commands if c.cmd == "FROM"]
    assert froms and all(":" in image and not image.endswith(":latest") for image in froms)
    final = commands[max(i for i, c in enumerate(commands) if c.cmd == "FROM") :]
    by_cmd = {c.cmd: c for c in final}
    assert by_cmd["ENTRYPOINT"].value == ("shixin",)
    assert by_cmd["EXPOSE"].value == (str(Settings().web_port),)
    assert by_cmd["USER"].value[0].split(":")[0] not in ("0", "root")
    env_text = " ".join(by_cmd["ENV"].value)
    assert "SHIXIN_WEB_HOST" in env_text and "0.0.0.0" in env_text
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for command in commands:
        if command.cmd == "COPY" and not any(f.startswith("--from") for f in command.flags):
            for source in command.value[:-1]:
                assert (ROOT / source).exists(), source
                assert f"!{source.rstrip('/')}/" in ignore or f"!{source}" in ignore, source
