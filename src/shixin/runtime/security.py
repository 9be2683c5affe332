"""How shixin's clients talk to the brokers (SASL/SCRAM, TLS), and who may touch what (ACLs).

Every Kafka client of the project gets its security options here, in one place: the Faust apps
(`faust_options`) and the plain aiokafka producers, consumers and admin clients
(`client_options`). Security is a property of the process (the environment it runs in), so
helpers that are given only a bootstrap address take it from `get_settings()`.

The ACL model (`principals`) is the one source of the per-organisation rights: the Kubernetes
KafkaUser resources are rendered from it (`deploy/k8s/render.py`) and the Apache Kafka ACL
tests apply it to a real broker. Kafka cannot tell apart two departments writing the one shared
`sanction.events` topic: see docs/OPERATIONS.md, "Security", for what the ACLs do and do not
stop.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from shixin.runtime.settings import Settings, get_settings

ResourceType = Literal["topic", "group", "transactionalId", "cluster"]
PatternType = Literal["literal", "prefix"]

# what a Faust app does with the topics of its own prefix: changelogs, the repartition topic,
# the assignor's leader topic (it creates them itself when missing)
INTERNAL_TOPIC_OPERATIONS = ("Read", "Write", "Create", "Describe", "DescribeConfigs")


class SecurityConfigError(ValueError):
    pass


def _uses_tls(settings: Settings) -> bool:
    return settings.security_protocol in ("SSL", "SASL_SSL")


def _uses_sasl(settings: Settings) -> bool:
    return settings.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for the brokers, or None when the protocol has no TLS."""
    if not _uses_tls(settings):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.ssl_cafile)
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
    elif settings.ssl_keyfile:
        raise SecurityConfigError("SHIXIN_SSL_KEYFILE needs SHIXIN_SSL_CERTFILE")
    context.check_hostname = settings.ssl_check_hostname
    return context


def _sasl_secret(settings: Settings) -> tuple[str, str]:
    if not settings.sasl_username or settings.sasl_password is None:
        raise SecurityConfigError(
            f"SHIXIN_SECURITY_PROTOCOL={settings.security_protocol} needs "
            "SHIXIN_SASL_USERNAME and SHIXIN_SASL_PASSWORD"
        )
    return settings.sasl_username, settings.sasl_password.get_secret_value()


def client_options(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
    settings = settings or get_settings()
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if _uses_sasl(settings):
        username, password = _sasl_secret(settings)
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = username
        options["sasl_plain_password"] = password
    return options


def faust_options(settings: Settings) -> dict[str, Any]:
    """Options for `faust.App`: the broker credentials (none for PLAINTEXT)."""
    import faust

    context = ssl_context(settings)
    if _uses_sasl(settings):
        username, password = _sasl_secret(settings)
        credentials: Any = faust.SASLCredentials(
            username=username,
            password=password,
            ssl_context=context,
            mechanism=settings.sasl_mechanism,
        )
        return {"broker_credentials": credentials}
    if context is not None:
        return {"broker_credentials": faust.SSLCredentials(context)}
    return {}


def options_of(client: Any) -> dict[str, Any]:
    """The security options a running aiokafka client was built with (for a helper client that
    must talk to the same brokers the same way, e.g. the end-offset correction inside Faust)."""
    options: dict[str, Any] = {"security_protocol": client._security_protocol}
    if client._ssl_context is not None:
        options["ssl_context"] = client._ssl_context
    if client._security_protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        options["sasl_mechanism"] = client._sasl_mechanism
        options["sasl_plain_username"] = client._sasl_plain_username
        options["sasl_plain_password"] = client._sasl_plain_password
    return options


# --- who may touch what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Acl:
    """One allow rule, in the shape of Strimzi's KafkaUser `acls` and of `kafka-acls.sh`."""

    resource_type: ResourceType
    name: str
    pattern: PatternType
    operations: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    """A Kafka user (SCRAM) and its rights. `app_id`: the Faust app it runs, if any."""

    username: str
    description: str
    acls: tuple[Acl, ...]
    app_id: str | None = None
    role: str | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def allows(self, resource_type: ResourceType, name: str, operation: str) -> bool:
        """Whether Kafka's simple authorizer lets this user do `operation` on the resource
        (Read, Write, Delete and Alter imply Describe, as in Kafka)."""
        implied = {"Describe": {"Read", "Write", "Delete", "Alter"}}.get(operation, set())
        for acl in self.acls:
            if acl.resource_type != resource_type:
                continue
            if acl.resource_type == "cluster" or acl.name == "*":
                matches = True
            elif acl.pattern == "prefix":
                matches = name.startswith(acl.name)
            else:
                matches = name == acl.name
            ops = set(acl.operations)
            if matches and (operation in ops or "All" in ops or ops & implied):
                return True
        return False


def _topics(names: Iterable[str], *operations: str) -> list[Acl]:
    return [Acl("topic", name, "literal", tuple(operations)) for name in names]


def _faust_app(app_id: str) -> list[Acl]:
    """What any Faust app needs for itself: its consumer group, the topics it owns (all named
    after its app id) and its transactional ids (`{app id}-{group}-{partition}`)."""
    return [
        Acl("group", app_id, "literal", ("Read", "Describe")),
        Acl("topic", f"{app_id}-", "prefix", INTERNAL_TOPIC_OPERATIONS),
        Acl("transactionalId", f"{app_id}-", "prefix", ("Write", "Describe")),
    ]


def k8s_name(text: str) -> str:
    """A Kubernetes (DNS-1123) name for an id that may hold underscores."""
    return text.replace("_", "-").replace(".", "-").lower()


def principals(settings: Settings, department_ids: Iterable[str]) -> list[Principal]:
    """Every Kafka user of a deployment and exactly the rights its code needs.

    - `court-system`: a court's system (outside organisation): writes court.events, nothing else.
    - `{prefix}-court`: the intake and subject fold (reads court.events, writes subject.status).
    - `{prefix}-sla`: the deadline monitor.
    - `{prefix}-department-<id>`: one per department (an outside organisation each): reads
      subject.status and the confirmations, writes its feedback (sanction.events), its deadlines
      (sla.events), dead letters and its own retention lifts (confirmations). It cannot read
      court.events or any other department's table, group or feedback.
    - `{prefix}-api`: the HTTP API (queries the roles' changelogs; court intake; confirmations).
    - `{prefix}-auditor`: replay, verify and archive export: reads everything, writes nothing.
    """
    s = settings
    prefix = s.app_prefix
    everyone_writes = [s.topic_dead_letters]
    out = [
        Principal(
            username="court-system",
            description="a court's system: publishes court events, nothing else",
            acls=tuple(_topics([s.topic_court_events], "Write", "Describe")),
            labels={"shixin.cn/organisation": "court"},
        ),
        Principal(
            username=f"{prefix}-court",
            description="the court role: intake and subject fold",
            acls=tuple(
                _topics([s.topic_court_events], "Read", "Describe")
                + _topics(
                    [s.topic_subject_status, s.topic_sla_events, *everyone_writes],
                    "Write",
                    "Describe",
                )
                + _faust_app(f"{prefix}-court")
            ),
            app_id=f"{prefix}-court",
            role="court",
            labels={"shixin.cn/organisation": "operator"},
        ),
        Principal(
            username=f"{prefix}-sla",
            description="the sla role: the deadline monitor",
            acls=tuple(
                _topics([s.topic_sla_events], "Read", "Write", "Describe")
                + _topics(everyone_writes, "Write", "Describe")
                + _faust_app(f"{prefix}-sla")
            ),
            app_id=f"{prefix}-sla",
            role="sla",
            labels={"shixin.cn/organisation": "operator"},
        ),
    ]
    for dept in department_ids:
        app_id = f"{prefix}-department-{dept}"
        out.append(
            Principal(
                username=k8s_name(app_id),
                description=f"department {dept}: its agent and its people's confirmations",
                acls=tuple(
                    _topics([s.topic_subject_status], "Read", "Describe")
                    + _topics([s.topic_confirmations], "Read", "Write", "Describe")
                    + _topics(
                        [s.topic_sanction_events, s.topic_sla_events, *everyone_writes],
                        "Write",
                        "Describe",
                    )
                    + _faust_app(app_id)
                ),
                app_id=app_id,
                role=f"department:{dept}",
                labels={"shixin.cn/organisation": "department", "shixin.cn/department": dept},
            )
        )
    api_id = f"{prefix}-api"
    out.append(
        Principal(
            username=api_id,
            description="the api role: read models, court intake, confirmations, metrics",
            acls=tuple(
                _topics(
                    [s.topic_court_events, s.topic_confirmations, s.topic_access_log],
                    "Read",
                    "Write",
                    "Describe",
                )
                + _topics(
                    [s.topic_sanction_events, s.topic_sla_events, s.topic_subject_status],
                    "Read",
                    "Describe",
                )
                + _topics(everyone_writes, "Read", "Write", "Describe")
                # its read models tail every role's table changelogs
                + [
                    Acl("topic", f"{prefix}-{role}-", "prefix", ("Read", "Describe"))
                    for role in ("court", "sla", "department")
                ]
                # consumer lag for /metrics: the roles' committed offsets (Describe only: it
                # must never commit into another role's group)
                + [Acl("group", f"{prefix}-", "prefix", ("Describe",))]
                + _faust_app(api_id)
            ),
            app_id=api_id,
            role="api",
            labels={"shixin.cn/organisation": "operator"},
        )
    )
    out.append(
        Principal(
            username=f"{prefix}-auditor",
            description="replay, audit verify and archive export: reads every topic, no group",
            acls=(
                Acl("topic", "*", "literal", ("Read", "Describe", "DescribeConfigs")),
                Acl("cluster", "kafka-cluster", "literal", ("Describe",)),
            ),
            labels={"shixin.cn/organisation": "operator"},
        )
    )
    return out


def kafka_acls_arguments(principal: Principal) -> list[list[str]]:
    """`kafka-acls.sh --add` arguments that grant `principal` its rights (one list per rule)."""
    flag = {"topic": "--topic", "group": "--group", "transactionalId": "--transactional-id"}
    commands = []
    for acl in principal.acls:
        args = ["--add", "--allow-principal", f"User:{principal.username}"]
        for operation in acl.operations:
            args += ["--operation", operation]
        if acl.resource_type == "cluster":
            args.append("--cluster")
        else:
            args += [flag[acl.resource_type], acl.name]
        args += ["--resource-pattern-type", "prefixed" if acl.pattern == "prefix" else "literal"]
        commands.append(args)
    return commands
