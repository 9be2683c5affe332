"""Apache Kafka in a container for the tests of this folder; skipped, with the reason printed at
the end of the run, where no Docker engine answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.kafka.containers import ApacheKafka, docker_answers

_ANSWERS, _WHY_NOT = docker_answers()
SKIP_REASON = f"Apache Kafka tests need Docker: {_WHY_NOT}"


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    if _ANSWERS:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/kafka/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ANSWERS:
        terminalreporter.write_line(f"skipped tests/kafka: {SKIP_REASON}", yellow=True)


@pytest.fixture(scope="module")
def kafka() -> Iterator[ApacheKafka]:
    with ApacheKafka() as container:
        yield container


@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[ApacheKafka]:
    """SASL/SCRAM on the client listener, the simple authorizer, no topic made by accident."""
    with ApacheKafka(sasl=True, auto_create=False) as container:
        yield container
