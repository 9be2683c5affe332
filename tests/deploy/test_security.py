"""Client security options: built in one place (shixin.runtime.security) and the same for the
Faust apps and the plain aiokafka clients. Real SASL/TLS against a broker: tests/kafka."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from shixin.runtime.security import (
    SecurityConfigError,
    client_options,
    faust_options,
    options_of,
)
from shixin.runtime.settings import Settings
from shixin.streams.app import make_app


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed CA certificate (PEM), as Strimzi's cluster CA secret holds one."""
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=shixin-test-ca",
            "-keyout",
            str(folder / "ca.key"),
            "-out",
            str(folder / "ca.crt"),
        ],
        check=True,
        capture_output=True,
    )
    return folder / "ca.crt"


def sasl_ssl(ca_file: Path, **more: object) -> Settings:
    values: dict[str, object] = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "shixin-court",
        "sasl_password": "s3cret",
        "ssl_cafile": str(ca_file),
    }
    values.update(more)
    return Settings(**values)  # type: ignore[arg-type]


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = Settings()
    assert client_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert faust_options(settings) == {}


def test_sasl_ssl_options_for_aiokafka(ca_file: Path) -> None:
    options = client_options(sasl_ssl(ca_file))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "shixin-court"
    assert options["sasl_plain_password"] == "s3cret"  # the secret, unwrapped only here
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert any(
        c["subject"] == ((("commonName", "shixin-test-ca"),),) for c in context.get_ca_certs()
    )


def test_sasl_plaintext_has_no_tls() -> None:
    settings = Settings(
        security_protocol="SASL_PLAINTEXT", sasl_username="court-system", sasl_password="pw"
    )
    options = client_options(settings)
    assert "ssl_context" not in options
    assert options["security_protocol"] == "SASL_PLAINTEXT"


def test_tls_only_and_hostname_check_off(ca_file: Path) -> None:
    settings = Settings(security_protocol="SSL", ssl_cafile=str(ca_file), ssl_check_hostname=False)
    options = client_options(settings)
    assert set(options) == {"security_protocol", "ssl_context"}
    assert options["ssl_context"].check_hostname is False
    credentials = faust_options(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SSLCredentials)


def test_sasl_without_credentials_is_refused_with_the_settings_to_set() -> None:
    settings = Settings(security_protocol="SASL_SSL", sasl_username="x")
    with pytest.raises(SecurityConfigError, match="SHIXIN_SASL_PASSWORD"):
        client_options(settings)
    with pytest.raises(SecurityConfigError, match="SHIXIN_SASL_USERNAME"):
        faust_options(settings)


def test_the_password_never_shows_in_settings_output(ca_file: Path) -> None:
    settings = sasl_ssl(ca_file)
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


def test_faust_gets_the_same_options_as_the_plain_clients(ca_file: Path) -> None:
    settings = sasl_ssl(ca_file)
    credentials = faust_options(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    faust_side = dict(credentials_to_aiokafka_auth(credentials))
    ours = client_options(settings)
    assert faust_side.pop("ssl_context") is not None
    ours.pop("ssl_context")
    assert faust_side == ours


def test_the_settings_reach_the_faust_app(ca_file: Path) -> None:
    settings = sasl_ssl(
        ca_file,
        processing_guarantee="exactly_once",
        store="rocksdb://",
        standby_replicas=1,
        replication_factor=3,
        app_prefix="tsec",
    )
    app = make_app("court", settings, "kafka-1:9093")
    assert app.conf.id == "tsec-court"
    assert str(app.conf.processing_guarantee.value) == "exactly_once"
    assert str(app.conf.store) == "rocksdb:"
    assert app.conf.table_standby_replicas == 1
    assert app.conf.topic_replication_factor == 3
    assert isinstance(app.conf.broker_credentials, faust.SASLCredentials)
    assert app.conf.broker_credentials.username == "shixin-court"


async def test_a_running_client_hands_its_options_on(ca_file: Path) -> None:
    """The end-offset correction inside Faust opens its own consumer with the app's options."""
    options = client_options(sasl_ssl(ca_file))
    secured = AIOKafkaConsumer(bootstrap_servers="localhost:1", **options)
    plain = AIOKafkaConsumer(bootstrap_servers="localhost:1")
    try:
        assert options_of(secured._client) == options
        assert options_of(plain._client) == {"security_protocol": "PLAINTEXT"}
    finally:
        await secured.stop()
        await plain.stop()


def test_rocksdb_tables_have_their_binding(tmp_path: Path) -> None:
    """SHIXIN_STORE=rocksdb:// works: faust-streaming finds rocksdict and opens a database."""
    from faust.stores import by_url
    from faust.stores import rocksdb as faust_rocksdb

    assert faust_rocksdb.USE_ROCKSDICT
    assert by_url("rocksdb://") is faust_rocksdb.Store
    db = faust_rocksdb.RocksDBOptions().open(tmp_path / "table-0.db")
    db[b'"c1"'] = b'{"state": "listed"}'
    assert db[b'"c1"'] == b'{"state": "listed"}'
    db.close()
