"""Schema evolution: every older schema still decodes with the newest reader (DESIGN §3).

`test_every_history_schema_decodes_with_the_newest_reader` covers every file under
``avsc/history/`` (none yet). The other tests build older and newer versions in the test and
register them in a copy of the registry only.
"""

from __future__ import annotations

import copy
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import fastavro
import fastavro.utils
import fastavro.validation
import pytest

from shixin.domain import events as ev
from shixin.schemas import (
    DecodeError,
    RegisteredSchema,
    SchemaError,
    SchemaRegistry,
    decode,
    decode_event,
    default_registry,
    encode,
    encode_model,
    schema_root,
    to_record,
)
from shixin.schemas.registry import HISTORY_DIR

DEBTOR_LISTED = "cn.shixin.court.v1.DebtorListed"
CST = timezone(timedelta(hours=8))


def _debtor_listed(public: bool = True) -> ev.DebtorListed:
    return ev.DebtorListed(
        event_id=UUID("3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b"),
        entry_id="E-2024-0100",
        case_no="(2024)赣0483执123号",
        court=ev.Court(code="J36-0483", name="江西省共青城市人民法院"),
        occurred_at=datetime(2024, 3, 20, 9, 15, tzinfo=CST),
        subject=ev.Subject(kind="entity", id="91350100M000100Y43", name="福州闽江建材有限公司"),
        related_persons=(ev.RelatedPerson(role="principal", name="陈建国"),),
        grounds=(1,),
        basis=ev.Basis(doc_no="(2023)赣0483民初456号", issuer="江西省共青城市人民法院"),
        obligation="支付货款人民币128,000元",
        performance="none",
        filed_on=date(2024, 1, 5),
        public=public,
    )


def _write(version: RegisteredSchema, record: dict[str, Any]) -> bytes:
    """Bytes as a producer still on ``version`` writes them (plain fastavro, not our encoder)."""
    body = io.BytesIO()
    fastavro.schemaless_writer(body, version.parsed, record)
    return version.header + body.getvalue()


def _without(schema: dict[str, Any], field: str) -> dict[str, Any]:
    older = copy.deepcopy(schema)
    older["fields"] = [f for f in older["fields"] if f["name"] != field]
    assert len(older["fields"]) == len(schema["fields"]) - 1
    return older


def assert_old_version_decodes(registry: SchemaRegistry, old: RegisteredSchema) -> None:
    """Random records written with ``old`` decode into valid records of the newest schema:
    shared fields keep their values, fields the old version lacks take their defaults."""
    newest = registry.current(old.name)
    old_fields = {f["name"]: f for f in old.schema["fields"]}
    new_fields = {f["name"]: f for f in newest.schema["fields"]}
    for name, field in new_fields.items():
        assert name in old_fields or "default" in field, (
            f"{old.name}: field {name} was added without a default; "
            f"messages written with {old.source} cannot be read"
        )
    random.seed(20240320)
    for record in fastavro.utils.generate_many(dict(old.schema), 30):
        name, decoded = decode(_write(old, record), registry=registry)
        assert name == old.name
        assert fastavro.validation.validate(decoded, newest.parsed, raise_errors=True)
        for field, spec in new_fields.items():
            if field not in old_fields:
                assert decoded[field] == spec["default"]
            elif json.dumps(old_fields[field]["type"]) == json.dumps(spec["type"]):
                assert decoded[field] == record[field]


def test_every_history_schema_decodes_with_the_newest_reader() -> None:
    registry = default_registry()
    on_disk = sorted((Path(str(schema_root())) / HISTORY_DIR).glob("*.avsc"))
    history = registry.history()
    assert len(history) == len(on_disk)  # every file is loaded as an older version
    for old in history:
        assert old.source.startswith(f"{HISTORY_DIR}/")
        assert_old_version_decodes(registry, old)


def test_a_synthetic_older_debtor_listed_decodes_with_the_newest_reader() -> None:
    newest = default_registry().current(DEBTOR_LISTED)
    registry = default_registry().copy()
    old = registry.register(_without(dict(newest.schema), "public"), current=False)
    assert old.fingerprint != newest.fingerprint
    assert registry.current(DEBTOR_LISTED) is newest  # still written with the newest
    assert old in registry.history()

    assert_old_version_decodes(registry, old)

    # a real event, written by a producer that does not know `public` yet
    event = _debtor_listed(public=True)
    record = to_record(event)
    del record["public"]
    data = _write(old, record)
    assert data[2:10] == old.fingerprint
    assert decode_event(data, registry=registry) == event
    # ... and the default fills in what old writers cannot say
    hidden = to_record(_debtor_listed(public=False))
    del hidden["public"]
    decoded = decode_event(_write(old, hidden), registry=registry)
    assert isinstance(decoded, ev.DebtorListed)
    assert decoded.public is True

    # registered for this test only
    assert default_registry().by_fingerprint(old.fingerprint) is None
    with pytest.raises(DecodeError, match="unknown writer schema fingerprint"):
        decode(data)


def test_registering_a_newer_version_keeps_the_old_one_readable() -> None:
    current = default_registry().current(DEBTOR_LISTED)
    registry = default_registry().copy()
    newer_schema = copy.deepcopy(dict(current.schema))
    newer_schema["fields"].append(
        {"name": "amount_fen", "type": ["null", "long"], "default": None, "doc": "test only"}
    )
    newer = registry.register(newer_schema)
    assert registry.current(DEBTOR_LISTED) is newer
    assert current in registry.history()

    old_bytes = encode_model(_debtor_listed())  # the shipped version, default registry
    name, record = decode(old_bytes, registry=registry)
    assert name == DEBTOR_LISTED
    assert record["amount_fen"] is None
    assert_old_version_decodes(registry, current)

    new_bytes = encode(
        DEBTOR_LISTED, {**to_record(_debtor_listed()), "amount_fen": 12}, registry=registry
    )
    assert new_bytes[2:10] == newer.fingerprint
    assert decode(new_bytes, registry=registry)[1]["amount_fen"] == 12
    # a reader that only knows the shipped version does not know the newer writer
    with pytest.raises(DecodeError, match="unknown writer schema fingerprint"):
        decode(new_bytes)


def test_registering_the_same_schema_twice_is_a_no_op() -> None:
    registry = default_registry().copy()
    current = registry.current(DEBTOR_LISTED)
    again = registry.register(json.dumps(current.schema))
    assert again is current
    assert registry.versions(DEBTOR_LISTED) == (current,)


def test_an_incompatible_older_version_is_a_decode_error_not_a_crash() -> None:
    newest = default_registry().current(DEBTOR_LISTED)
    registry = default_registry().copy()
    older = copy.deepcopy(dict(newest.schema))
    for field in older["fields"]:
        if field["name"] == "grounds":
            field["type"] = "string"  # arrays of int cannot be read from a string
    old = registry.register(older, current=False)
    record = {**to_record(_debtor_listed()), "grounds": "1"}
    with pytest.raises(DecodeError) as info:
        decode(_write(old, record), registry=registry)
    assert DEBTOR_LISTED in info.value.reason


# --- the loader --------------------------------------------------------------------------------


def _copy_tree(target: Path) -> None:
    root = Path(str(schema_root()))
    for path in root.rglob("*.avsc"):
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())


def test_the_loader_picks_up_every_dropped_file(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    extra = {
        "type": "record",
        "name": "Ping",
        "namespace": "cn.shixin.test.v1",
        "fields": [{"name": "n", "type": "long"}],
    }
    (tmp_path / "cn.shixin.test.v1").mkdir()
    (tmp_path / "cn.shixin.test.v1" / "Ping.avsc").write_text(json.dumps(extra))
    newest = default_registry().current(DEBTOR_LISTED)
    (tmp_path / HISTORY_DIR).mkdir(exist_ok=True)
    (tmp_path / HISTORY_DIR / f"{DEBTOR_LISTED}.1.avsc").write_text(
        json.dumps(_without(dict(newest.schema), "public"))
    )

    registry = SchemaRegistry()
    registry.load_directory(tmp_path)
    assert "cn.shixin.test.v1.Ping" in registry
    assert set(default_registry().names()) < set(registry.names())
    assert decode(
        encode("cn.shixin.test.v1.Ping", {"n": 7}, registry=registry), registry=registry
    ) == (
        "cn.shixin.test.v1.Ping",
        {"n": 7},
    )
    (old,) = registry.history()
    assert old.source == f"{HISTORY_DIR}/{DEBTOR_LISTED}.1.avsc"
    assert registry.current(DEBTOR_LISTED).fingerprint == newest.fingerprint
    assert_old_version_decodes(registry, old)


def test_two_current_files_for_one_record_are_an_error(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    newest = default_registry().current(DEBTOR_LISTED)
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "DebtorListed.avsc").write_text(
        json.dumps(_without(dict(newest.schema), "public"))
    )
    with pytest.raises(
        SchemaError, match=r"two current schemas for cn\.shixin\.court\.v1\.DebtorListed"
    ):
        SchemaRegistry().load_directory(tmp_path)


@pytest.mark.parametrize(
    "schema",
    [
        "not json",
        '"string"',
        '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}',
        json.dumps(
            {
                "type": "record",
                "name": "X",
                "fields": [{"name": "a", "type": {"type": "array", "items": "null"}}],
            }
        ),
        json.dumps(
            {
                "type": "record",
                "name": "X",
                "fields": [
                    {
                        "name": "m",
                        "type": {
                            "type": "map",
                            "values": {"type": "record", "name": "E", "fields": []},
                        },
                    }
                ],
            }
        ),
    ],
)
def test_unusable_schemas_are_refused(schema: str) -> None:
    with pytest.raises(SchemaError):
        SchemaRegistry().register(schema)
