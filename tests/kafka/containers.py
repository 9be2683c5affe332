"""Apache Kafka (the official apache/kafka image, KRaft, one node) in a container, plain or
with SASL/SCRAM and ACLs, for the tests that need the real thing. Needs a Docker engine."""

from __future__ import annotations

import re
from typing import Any

from bench.workers import free_port
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from shixin.runtime.security import Principal, kafka_acls_arguments

IMAGE = "apache/kafka:4.1.0"  # the image deploy/docker-compose.yml runs
ADMIN_PORT = 19092  # inside the container only: PLAINTEXT, the super user (ANONYMOUS)
CLIENT_PORT = 9092
BIN = "/opt/kafka/bin"


def docker_answers() -> tuple[bool, str]:
    """Whether a Docker engine answers, and why not."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True, ""
    except Exception as exc:  # no engine, no socket, no permission: all mean "skip"
        return False, f"no Docker engine answers ({type(exc).__name__}: {exc})"


class ApacheKafka(DockerContainer):  # type: ignore[misc]
    """One KRaft node. The client listener is published on the same port number on the host,
    so the address the broker advertises is the one clients use. `sasl=True`: the client
    listener wants SCRAM-SHA-512 and the simple authorizer denies what no ACL allows."""

    def __init__(self, sasl: bool = False, auto_create: bool = True, image: str = IMAGE) -> None:
        super().__init__(image)
        self.sasl = sasl
        self.port = free_port()
        protocol = "SASL_PLAINTEXT" if sasl else "PLAINTEXT"
        env = {
            "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_LISTENERS": (
                f"CLIENT://:{CLIENT_PORT},CONTROLLER://:9093,ADMIN://:{ADMIN_PORT}"
            ),
            "KAFKA_ADVERTISED_LISTENERS": (
                f"CLIENT://localhost:{self.port},ADMIN://localhost:{ADMIN_PORT}"
            ),
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
                f"CLIENT:{protocol},CONTROLLER:PLAINTEXT,ADMIN:PLAINTEXT"
            ),
            "KAFKA_INTER_BROKER_LISTENER_NAME": "ADMIN",
            "KAFKA_LOG_DIRS": "/tmp/kraft-logs",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": str(auto_create).lower(),
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "4",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        }
        if sasl:
            env |= {
                "KAFKA_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
                # the image maps ___ to - and _ to . in property names
                "KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                ),
                "KAFKA_AUTHORIZER_CLASS_NAME": (
                    "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
                ),
                # the controller and the in-container admin listener are PLAINTEXT: ANONYMOUS
                "KAFKA_SUPER_USERS": "User:ANONYMOUS",
                "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
            }
        for key, value in env.items():
            self.with_env(key, value)
        self.with_bind_ports(CLIENT_PORT, self.port)

    def start(self, timeout: int = 120) -> ApacheKafka:
        super().start()
        wait = LogMessageWaitStrategy(re.compile(r"Kafka Server started"))
        wait.with_startup_timeout(timeout)
        wait.wait_until_ready(self)
        return self

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.port}"

    def tool(self, script: str, *args: str) -> str:
        """Run one of Kafka's command-line tools inside the container, as the super user."""
        command = [f"{BIN}/{script}", "--bootstrap-server", f"localhost:{ADMIN_PORT}", *args]
        code, output = self.exec(command)
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        if code != 0:
            raise RuntimeError(f"{script} {' '.join(args)} failed ({code}): {text}")
        return text

    def create_topics(self, configs: dict[str, dict[str, str]], partitions: int) -> None:
        for name, config in configs.items():
            extra: list[str] = []
            for key, value in config.items():
                extra += ["--config", f"{key}={value}"]
            self.tool(
                "kafka-topics.sh",
                "--create",
                "--if-not-exists",
                "--topic",
                name,
                "--partitions",
                str(partitions),
                "--replication-factor",
                "1",
                *extra,
            )

    def add_user(self, principal: Principal, password: str) -> None:
        """A SCRAM user with the ACLs of `principal` (shixin.runtime.security.principals)."""
        self.tool(
            "kafka-configs.sh",
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            principal.username,
            "--add-config",
            f"SCRAM-SHA-512=[iterations=4096,password={password}]",
        )
        for args in kafka_acls_arguments(principal):
            self.tool("kafka-acls.sh", *args)


def sasl_settings_values(username: str, password: str) -> dict[str, Any]:
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": username,
        "sasl_password": password,
    }
