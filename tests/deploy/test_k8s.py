"""deploy/k8s: current with the code (render.py), valid (kubernetes-validate for the core kinds,
Strimzi's schemas for the Kafka resources), and every cross-reference right: topic names,
users and their secrets, ports, labels, and ACLs that let each role do exactly what its code
does."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from typing import Any

import faust
import jsonschema
import kubernetes_validate
import pytest

from shixin.domain.calendar import parse_schedules
from shixin.runtime.admin import topic_configs
from shixin.runtime.catalogs import get_catalog
from shixin.runtime.security import Principal, principals
from shixin.runtime.settings import Settings
from shixin.streams.roles import build_roles
from tests.deploy.conftest import K8S, load_all
from tests.deploy.strimzi_schema import SCHEMAS

K8S_VERSION = "1.33.0"


def _render_module() -> Any:
    spec = importlib.util.spec_from_file_location("shixin_k8s_render", K8S / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _render_module()


@pytest.fixture(scope="module")
def docs() -> dict[str, list[dict[str, Any]]]:
    """kind -> every resource of that kind in the kustomization."""
    kustomization = load_all(K8S / "kustomization.yaml")[0]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in kustomization["resources"]:
        for doc in load_all(K8S / name):
            out[doc["kind"]].append(doc)
    return out


def by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs}


def container_env(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_generated_manifests_are_current() -> None:
    assert render.main(["--check"]) == 0, "run: python deploy/k8s/render.py"


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_all(K8S / "kustomization.yaml")[0]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk
    assert {i["name"] for i in kustomization["images"]} == {render.IMAGE.split(":")[0]}


def test_core_resources_are_valid_kubernetes(docs: dict[str, list[dict[str, Any]]]) -> None:
    core = [d for kind, ds in docs.items() if kind not in SCHEMAS for d in ds]
    assert {d["kind"] for d in core} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    }
    for doc in core:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_deployment(docs: dict[str, list[dict[str, Any]]]) -> None:
    broken = {**docs["Deployment"][0]}
    broken["spec"] = {**broken["spec"], "replica": 2}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_strimzi_resources_match_their_schemas(docs: dict[str, list[dict[str, Any]]]) -> None:
    for kind, schema in SCHEMAS.items():
        assert docs[kind], kind
        for doc in docs[kind]:
            jsonschema.Draft202012Validator(schema).validate(doc)
    user = {**docs["KafkaUser"][0], "spec": {"authentication": {"type": "scram-sha-256"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMAS["KafkaUser"]).validate(user)


def test_everything_belongs_to_the_one_kafka_cluster(docs: dict[str, Any]) -> None:
    (kafka,) = docs["Kafka"]
    cluster = kafka["metadata"]["name"]
    for kind in ("KafkaNodePool", "KafkaTopic", "KafkaUser"):
        for doc in docs[kind]:
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == cluster, doc
    (pool,) = docs["KafkaNodePool"]
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["transaction.state.log.replication.factor"] == 3
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"


def test_topics_are_the_codes_topics(docs: dict[str, Any]) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in docs["KafkaTopic"]}
    wanted = topic_configs(render.settings())
    assert set(topics) == set(wanted) == set(topic_configs(Settings()))
    for name, spec in topics.items():
        assert {k: str(v) for k, v in spec["config"].items()} == wanted[name]
        assert spec["partitions"] == render.PARTITIONS and spec["replicas"] == 3
    assert topics["court.events"]["config"]["retention.ms"] == -1
    assert topics["sanction.events"]["config"]["retention.ms"] == -1


def test_deployments_reach_the_cluster_as_their_own_user(docs: dict[str, Any]) -> None:
    (kafka,) = docs["Kafka"]
    cluster = kafka["metadata"]["name"]
    maps = by_name(docs["ConfigMap"])
    settings_map = maps["shixin-settings"]
    shared = settings_map["data"]
    known = {f"SHIXIN_{name.upper()}" for name in Settings.model_fields}
    assert set(shared) <= known, set(shared) - known
    settings = Settings(**{k.removeprefix("SHIXIN_").lower(): v for k, v in shared.items()})
    assert settings.security_protocol == "SASL_SSL"
    assert settings.processing_guarantee == "exactly_once"
    assert settings.store == "rocksdb://" and settings.standby_replicas >= 1
    host, port = (settings.kafka_bootstrap or "").split(":")
    assert host == f"{cluster}-kafka-bootstrap"
    listener = next(x for x in kafka["spec"]["kafka"]["listeners"] if x["port"] == int(port))
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == settings.sasl_mechanism.lower()
    users = by_name(docs["KafkaUser"])
    for deployment in docs["Deployment"]:
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        env = container_env(deployment)
        assert set(env) <= known
        user = env["SHIXIN_SASL_USERNAME"]
        assert user in users, user
        assert env["SHIXIN_SASL_PASSWORD"]["secretKeyRef"] == {"name": user, "key": "password"}
        assert container["envFrom"] == [
            {"configMapRef": {"name": settings_map["metadata"]["name"]}}
        ]
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert set(mounts) <= set(volumes)
        assert volumes["kafka-ca"]["secret"]["secretName"] == f"{cluster}-cluster-ca-cert"
        assert settings.ssl_cafile == f"{mounts['kafka-ca']}/ca.crt"
        assert mounts["data"] == settings.data_dir
        # every role counts deadlines with the same supplied holidays (the file shipped: none)
        holidays = maps[volumes["holidays"]["configMap"]["name"]]["data"]
        directory, _, name = (settings.holiday_schedules or "").rpartition("/")
        assert mounts["holidays"] == directory
        assert parse_schedules(holidays[name]) == []


def test_probes_ports_labels_and_resources(docs: dict[str, Any]) -> None:
    settings_map = by_name(docs["ConfigMap"])["shixin-settings"]
    web_port = int(settings_map["data"]["SHIXIN_WEB_PORT"])
    for deployment in docs["Deployment"]:
        spec = deployment["spec"]
        pod = spec["template"]
        (container,) = pod["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": web_port}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"]["port"] == "http"
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert "memory" in container["resources"]["limits"]
        selector = spec["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(web_port)
        assert 1 <= spec["replicas"] <= int(settings_map["data"]["SHIXIN_PARTITIONS"])
    deployments = by_name(docs["Deployment"])
    for service in docs["Service"]:
        targets = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, service["metadata"]["name"]
        (container,) = targets[0]["spec"]["template"]["spec"]["containers"]
        names = {p["name"] for p in container["ports"]}
        assert all(p["targetPort"] in names for p in service["spec"]["ports"])
    for hpa in docs["HorizontalPodAutoscaler"]:
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments


def test_one_deployment_per_role_and_department(docs: dict[str, Any]) -> None:
    departments = [d.id for d in get_catalog().departments]
    roles = []
    for deployment in docs["Deployment"]:
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"][:2] == ["worker", "--role"]
        roles.append(container["args"][2])
    assert sorted(roles) == sorted(
        ["court", "sla", "api", *(f"department:{d}" for d in departments)]
    )
    build_roles(",".join(r for r in roles if r != "api"), Settings(), "k:9092", get_catalog())


# --- the ACLs against what each role's code really reads and writes ---------------------------


@pytest.fixture(scope="module")
def users(docs: dict[str, Any]) -> dict[str, Principal]:
    """The principals, checked to be exactly what users.yaml holds."""
    dept_ids = [d.id for d in get_catalog().departments]
    out = {p.username: p for p in principals(render.settings(), dept_ids)}
    assert set(out) == set(by_name(docs["KafkaUser"]))
    return out


def _topic(t: Any) -> str:
    (name,) = t.topics
    return str(name)


def test_each_role_may_do_what_its_code_does(users: dict[str, Principal]) -> None:
    settings = render.settings()
    roles = build_roles("court,sla,departments", settings, "k:9092", get_catalog())
    apps = {app.conf.id: app for app in roles.apps}
    by_app = {p.app_id: p for p in users.values() if p.app_id}
    assert set(apps) <= set(by_app)
    written: dict[str, set[str]] = {
        roles.court.app.conf.id: {  # type: ignore[union-attr]
            settings.topic_subject_status,
            settings.topic_sla_events,
            settings.topic_dead_letters,
            f"{settings.app_prefix}-court-entry-facets",
        },
        roles.sla.app.conf.id: {settings.topic_sla_events, settings.topic_dead_letters},  # type: ignore[union-attr]
    }
    for dept in roles.departments.values():
        written[dept.app.conf.id] = {
            settings.topic_sanction_events,
            settings.topic_sla_events,
            settings.topic_dead_letters,
            settings.topic_confirmations,
        }
    for app_id, app in apps.items():
        user = by_app[app_id]
        assert user.allows("group", app_id, "Read")
        assert user.allows("transactionalId", f"{app_id}-{app_id}-0", "Write")
        for agent in app.agents.values():
            for topic in agent.channel.topics:
                assert user.allows("topic", topic, "Read"), (app_id, topic)
        for table in app.tables.values():
            changelog = table.changelog_topic.get_topic_name()
            for op in ("Read", "Write", "Create"):
                assert user.allows("topic", changelog, op), (app_id, changelog, op)
        assert user.allows("topic", f"{app_id}-__assignor-__leader", "Create")
        for topic in written[app_id]:
            assert user.allows("topic", topic, "Write"), (app_id, topic)
        # every Faust topic the role object holds is either read or written
        holder = next(
            r
            for r in [roles.court, roles.sla, *roles.departments.values()]
            if r is not None and r.app is app
        )
        held = {_topic(v) for v in vars(holder).values() if isinstance(v, faust.TopicT)}
        held.add(_topic(holder.dead_letters.topic))
        reads = {str(t) for a in app.agents.values() for t in a.channel.topics}
        assert held <= reads | written[app_id], (app_id, held - reads - written[app_id])


def test_courts_and_departments_touch_only_their_own(users: dict[str, Principal]) -> None:
    s = render.settings()
    public = set(topic_configs(s))
    court_system = users["court-system"]
    for topic in public:
        assert court_system.allows("topic", topic, "Write") == (topic == s.topic_court_events)
        assert not court_system.allows("topic", topic, "Read")
    assert not court_system.allows("group", "anything", "Read")
    departments = [u for u in users.values() if (u.role or "").startswith("department:")]
    assert len(departments) == len(get_catalog().departments)
    for user in departments:
        assert user.allows("topic", s.topic_subject_status, "Read")
        assert not user.allows("topic", s.topic_subject_status, "Write")
        assert not user.allows("topic", s.topic_court_events, "Read")
        assert not user.allows("topic", s.topic_court_events, "Write")
        # it reports its feedback but never reads the others'
        assert user.allows("topic", s.topic_sanction_events, "Write")
        assert not user.allows("topic", s.topic_sanction_events, "Read")
        for other in departments:
            if other is user:
                continue
            assert other.app_id is not None
            changelog = f"{other.app_id}-sanctions-x-changelog"
            assert not user.allows("topic", changelog, "Read"), (user.username, other.app_id)
            assert not user.allows("group", other.app_id, "Read")
            assert not user.allows("transactionalId", f"{other.app_id}-g-0", "Write")
    auditor = users[f"{s.app_prefix}-auditor"]
    assert all(auditor.allows("topic", t, "Read") for t in public)
    assert not any(auditor.allows("topic", t, "Write") for t in public)
