"""The .avsc files: they parse with fastavro and with the Apache reference implementation, our
fingerprints are the reference ones, the layout is the documented one, and every event model
agrees with its schema field for field."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import avro.schema
import fastavro
import pydantic
import pytest

from shixin.domain import events as ev
from shixin.schemas import (
    DEAD_LETTER_RECORD,
    DeadLetter,
    default_registry,
    record_name_of,
    schema_root,
)
from shixin.schemas.registry import HISTORY_DIR

ROOT = Path(str(schema_root()))
FILES = sorted(ROOT.rglob("*.avsc"))
FILE_IDS = [str(p.relative_to(ROOT)) for p in FILES]
EVENT_MODELS: list[type[pydantic.BaseModel]] = [
    *ev.COURT_EVENT_TYPES,
    *ev.SANCTION_EVENT_TYPES,
    DeadLetter,
]


def _registered(path: Path) -> Any:
    fingerprint = avro.schema.parse(path.read_text(encoding="utf-8")).fingerprint("CRC-64-AVRO")
    entry = default_registry().by_fingerprint(fingerprint)
    assert entry is not None, f"{path} is not loaded (or our fingerprint differs)"
    return entry


def test_there_is_a_file_for_every_model() -> None:
    names = {record_name_of(m) for m in EVENT_MODELS}
    assert len(names) == 12
    assert names <= set(default_registry().names())
    assert {n for n in names if n.startswith("cn.shixin.court.v1.")} == {
        f"cn.shixin.court.v1.{m.model_fields['type'].default}" for m in ev.COURT_EVENT_TYPES
    }


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_parses_with_fastavro_and_the_reference_implementation(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fastavro.parse_schema(json.loads(text))
    parsed = avro.schema.parse(text)
    assert parsed.type == "record"


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_fingerprint_equals_the_reference_implementation(path: Path) -> None:
    reference = avro.schema.parse(path.read_text(encoding="utf-8"))
    entry = _registered(path)
    # avro returns the 8 bytes in the order single-object encoding puts them on the wire
    assert entry.fingerprint == reference.fingerprint("CRC-64-AVRO")
    assert len(entry.fingerprint) == 8
    assert entry.canonical_form == reference.canonical_form
    assert isinstance(reference, avro.schema.RecordSchema)
    assert entry.name == reference.fullname
    assert entry.header == b"\xc3\x01" + reference.fingerprint("CRC-64-AVRO")


def test_our_crc64_byte_order_against_the_spec_algorithm() -> None:
    """CRC-64-AVRO as in the Avro specification, the 64-bit value written little-endian."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    for name in default_registry().names():
        entry = default_registry().current(name)
        fp = empty
        for byte in entry.canonical_form.encode("utf-8"):
            fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
        assert entry.fingerprint == fp.to_bytes(8, "little")


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_layout(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    full = f"{schema['namespace']}.{schema['name']}" if "namespace" in schema else schema["name"]
    relative = path.relative_to(ROOT)
    entry = _registered(path)
    assert entry.name == full
    if relative.parts[0] == HISTORY_DIR:
        stem, version, _ = relative.name.rsplit(".", 2)
        assert stem == full and version.isdigit() and int(version) >= 1
        assert entry in default_registry().history()
        assert full in default_registry()
    else:
        assert relative.as_posix() == f"{schema['namespace']}/{schema['name']}.avsc"
        assert default_registry().current(full) is entry


def test_every_file_is_loaded() -> None:
    registry = default_registry()
    loaded = {v.fingerprint for n in registry.names() for v in registry.versions(n)}
    assert len(loaded) == len(FILES)


def test_the_dead_letter_schema() -> None:
    schema = default_registry().current(DEAD_LETTER_RECORD).schema
    fields = [(f["name"], f["type"]) for f in schema["fields"]]
    assert fields == [
        ("event_id", ["null", "string"]),
        ("reason", "string"),
        ("topic", "string"),
        ("partition", "int"),
        ("offset", "long"),
        ("original", "bytes"),
        ("at", "string"),
    ]
    assert schema["fields"][0]["default"] is None


# --- models and schemas agree ----------------------------------------------------------------


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _check(annotation: Any, avro_type: Any, named: dict[str, Any], where: str) -> None:
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if isinstance(avro_type, str) and avro_type in named:
        avro_type = named[avro_type]
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        assert len(inner) == 1 and type(None) in get_args(annotation), where
        assert isinstance(avro_type, list) and avro_type[0] == "null", where
        assert len(avro_type) == 2, where
        _check(inner[0], avro_type[1], named, where)
        return
    assert not isinstance(avro_type, list), f"{where}: a union for a required field"
    if origin is Literal:
        assert avro_type == "string", f"{where}: Literal types travel as strings, not enums"
        return
    if origin is tuple:
        assert avro_type["type"] == "array", where
        _check(get_args(annotation)[0], avro_type["items"], named, where + "[]")
        return
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        assert avro_type["type"] == "record", where
        _check_record(annotation, avro_type, named, where)
        return
    expected = {bool: "boolean", bytes: "bytes"}.get(annotation, "string")
    if annotation is int:
        expected = avro_type if avro_type in ("int", "long") else "int"
    assert avro_type == expected, f"{where}: {annotation} should be {expected}"


def _literal_values(annotation: Any) -> tuple[str, ...]:
    annotation = _strip(annotation)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                return _literal_values(arg)
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return ()


def _check_record(
    model: type[pydantic.BaseModel], record: dict[str, Any], named: dict[str, Any], where: str
) -> None:
    full = record["name"] if "." in record["name"] else f"{record['namespace']}.{record['name']}"
    named[full] = record
    named[record["name"]] = record
    fields = record["fields"]
    assert [f["name"] for f in fields] == list(model.model_fields), f"{where}: field order"
    for field, (name, info) in zip(fields, model.model_fields.items(), strict=True):
        here = f"{where}.{name}"
        if name == "type" and get_origin(info.annotation) is Literal:
            assert field["type"] == "string" and field["default"] == info.default, here
            continue
        _check(info.annotation, field["type"], named, here)
        if info.is_required():
            assert "default" not in field, f"{here}: required in the model"
        else:
            default = info.get_default(call_default_factory=True)
            adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(info.annotation)  # type: ignore[arg-type]
            expected = adapter.dump_python(default, mode="json")
            assert field.get("default", "<none>") == expected, f"{here}: default"
        for value in _literal_values(info.annotation):
            assert value in field.get("doc", ""), f"{here}: doc must list {value}"


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_model_and_schema_agree(model: type[pydantic.BaseModel]) -> None:
    record = default_registry().current(record_name_of(model)).schema
    _check_record(model, dict(record), {}, model.__name__)
