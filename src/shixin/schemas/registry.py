"""Avro schemas by record name and by fingerprint, parsed once.

Layout of the schema directory (`avsc/` beside this file; every ``*.avsc`` below it is loaded):

- ``avsc/<namespace>/<Name>.avsc``: the newest schema of a record, e.g.
  ``avsc/cn.shixin.court.v1/DebtorListed.avsc``. Messages are written with it.
- ``avsc/history/<namespace>.<Name>.<n>.avsc``: older versions of that record. Messages written
  with them stay readable: they are resolved to the newest schema of the same record name.

The record name is taken from the schema itself (``namespace`` + ``name``), not from the path, so
a new record type only needs its ``.avsc`` file dropped into the directory.

A registry keeps, for the hot path, the single-object header and parsed schema of each record's
newest version (for writing) and, for every known fingerprint, the parsed writer schema with the
parsed newest reader schema (for reading). Nothing is parsed per message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import parse_schema, to_parsing_canonical_form

from shixin.schemas.errors import SchemaError

#: The two marker bytes that open every single-object encoded message (Avro spec).
MAGIC = b"\xc3\x01"
#: The magic, then the 8-byte CRC-64-AVRO fingerprint of the writer schema.
HEADER_SIZE = 10
HISTORY_DIR = "history"


def schema_root() -> Traversable:
    """The package's schema directory."""
    return files("shixin.schemas").joinpath("avsc")


def fingerprint_of(canonical_form: str) -> bytes:
    """The CRC-64-AVRO fingerprint of a Parsing Canonical Form, as the 8 little-endian bytes that
    single-object encoding puts on the wire (fastavro and the Apache implementations agree)."""
    return bytes.fromhex(_fastavro_fingerprint(canonical_form, "CRC-64-AVRO"))


@dataclass(frozen=True, eq=False)
class RegisteredSchema:
    """One version of one record's schema."""

    name: str
    """Full record name, e.g. ``cn.shixin.court.v1.DebtorListed``."""
    fingerprint: bytes
    """CRC-64-AVRO of the canonical form, 8 bytes, in wire order (little-endian)."""
    canonical_form: str
    schema: Mapping[str, Any]
    """The schema as written (JSON object, docs and defaults included)."""
    parsed: Any
    """fastavro's parsed form."""
    source: str
    """Where it came from: a file path, or ``<registered>``."""

    @property
    def header(self) -> bytes:
        """The 10-byte single-object header for messages written with this schema."""
        return MAGIC + self.fingerprint

    @property
    def fingerprint_hex(self) -> str:
        """``0x`` + the fingerprint bytes in wire order (as ``fastavro.schema.fingerprint``)."""
        return "0x" + self.fingerprint.hex()


@dataclass(frozen=True)
class Writer:
    """What encoding one record needs: the header and the parsed newest schema."""

    name: str
    header: bytes
    parsed: Any


@dataclass(frozen=True)
class Reader:
    """What decoding one fingerprint needs: the writer schema, and the newest schema of the same
    record to resolve to (None when the writer is the newest: no resolution needed)."""

    name: str
    writer: Any
    reader: Any


class SchemaRegistry:
    """Record name ↔ schema versions ↔ fingerprints. Cheap lookups, registration is rare."""

    def __init__(self) -> None:
        self._versions: dict[str, list[RegisteredSchema]] = {}
        self._current: dict[str, RegisteredSchema] = {}
        self._by_fingerprint: dict[bytes, RegisteredSchema] = {}
        self._writers: dict[str, Writer] = {}
        self._readers: dict[bytes, Reader] = {}
        self._lock = threading.Lock()

    # --- registration --------------------------------------------------------------------

    def register(
        self,
        schema: Mapping[str, Any] | str,
        *,
        current: bool = True,
        source: str = "<registered>",
    ) -> RegisteredSchema:
        """Add one version of a record's schema (a JSON object or its text).

        ``current=True`` makes it the newest version of its record: messages are written with it
        and every other version of the record is resolved to it; the version it replaces stays
        readable. ``current=False`` adds an older version: readable, never written. Registering a
        schema already known (same fingerprint) is a no-op, except that ``current=True`` makes it
        the current one.
        """
        return self._add(_build(schema, source), current=current)

    def _add(self, entry: RegisteredSchema, *, current: bool) -> RegisteredSchema:
        with self._lock:
            known = self._by_fingerprint.get(entry.fingerprint)
            if known is None:
                self._by_fingerprint[entry.fingerprint] = entry
                self._versions.setdefault(entry.name, []).append(entry)
            else:
                entry = known
            if current:
                self._current[entry.name] = entry
                versions = self._versions[entry.name]
                versions.remove(entry)
                versions.append(entry)
            self._rebuild(entry.name)
        return entry

    def _rebuild(self, name: str) -> None:
        newest = self._current.get(name)
        if newest is not None:
            self._writers[name] = Writer(name, newest.header, newest.parsed)
        for version in self._versions[name]:
            reader_schema = None
            if newest is not None and version is not newest:
                reader_schema = newest.parsed
            self._readers[version.fingerprint] = Reader(name, version.parsed, reader_schema)

    def load_directory(self, root: Traversable | Path | str) -> list[RegisteredSchema]:
        """Register every ``*.avsc`` below ``root``: files under ``history/`` as older versions,
        every other file as the newest version of its record (two of those for one record name
        are an error)."""
        base: Traversable = Path(root) if isinstance(root, str | Path) else root
        history: list[tuple[str, str]] = []
        newest: list[tuple[str, str]] = []
        for relative, text in sorted(_walk(base, "")):
            (history if relative.split("/", 1)[0] == HISTORY_DIR else newest).append(
                (relative, text)
            )
        older = [_build(text, relative) for relative, text in history]
        current = [_build(text, relative) for relative, text in newest]
        seen: dict[str, str] = {}
        for entry in current:
            if entry.name in seen:
                raise SchemaError(
                    f"two current schemas for {entry.name}: {seen[entry.name]} and {entry.source} "
                    f"(older versions belong under {HISTORY_DIR}/)"
                )
            seen[entry.name] = entry.source
        older.sort(key=lambda entry: _natural_key(entry.source))
        return [self._add(entry, current=False) for entry in older] + [
            self._add(entry, current=True) for entry in current
        ]

    def copy(self) -> SchemaRegistry:
        """An independent registry with the same versions (e.g. to register test-only ones)."""
        other = SchemaRegistry()
        with self._lock:
            other._versions = {name: list(v) for name, v in self._versions.items()}
            other._current = dict(self._current)
            other._by_fingerprint = dict(self._by_fingerprint)
            other._writers = dict(self._writers)
            other._readers = dict(self._readers)
        return other

    # --- lookups -------------------------------------------------------------------------

    def writer(self, name: str) -> Writer | None:
        """The newest schema of record ``name``, ready to write (hot path)."""
        return self._writers.get(name)

    def reader(self, fingerprint: bytes) -> Reader | None:
        """The parsed writer/reader pair for a writer fingerprint (hot path)."""
        return self._readers.get(fingerprint)

    def current(self, name: str) -> RegisteredSchema:
        """The newest version of record ``name``; KeyError if unknown."""
        try:
            return self._current[name]
        except KeyError:
            raise KeyError(f"no Avro schema registered for record {name!r}") from None

    def by_fingerprint(self, fingerprint: bytes) -> RegisteredSchema | None:
        return self._by_fingerprint.get(fingerprint)

    def versions(self, name: str) -> tuple[RegisteredSchema, ...]:
        """Every known version of record ``name``, the current one last."""
        return tuple(self._versions.get(name, ()))

    def history(self) -> tuple[RegisteredSchema, ...]:
        """Every version that is not the current one of its record."""
        return tuple(
            version
            for name, versions in sorted(self._versions.items())
            for version in versions
            if self._current.get(name) is not version
        )

    def names(self) -> tuple[str, ...]:
        """Every record name with a current schema, sorted."""
        return tuple(sorted(self._current))

    def __contains__(self, name: object) -> bool:
        return name in self._current


# --- the package's registry ------------------------------------------------------------------

_default: SchemaRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> SchemaRegistry:
    """The registry of every ``.avsc`` shipped in the package, loaded on first use."""
    registry = _default
    if registry is not None:
        return registry
    return _load_default()


def _load_default() -> SchemaRegistry:
    global _default
    with _default_lock:
        if _default is None:
            registry = SchemaRegistry()
            registry.load_directory(schema_root())
            _default = registry
        return _default


def register_schema(schema: Mapping[str, Any] | str, *, current: bool = True) -> RegisteredSchema:
    """Register one more record schema (or version) in the package's registry; see
    `SchemaRegistry.register`. Dropping a ``.avsc`` file into the schema directory does the
    same for every process."""
    return default_registry().register(schema, current=current)


# --- helpers ---------------------------------------------------------------------------------


def _build(schema: Mapping[str, Any] | str, source: str) -> RegisteredSchema:
    try:
        raw: Any = json.loads(schema) if isinstance(schema, str) else json.loads(json.dumps(schema))
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{source}: not a JSON schema: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise SchemaError(f"{source}: a message schema must be an Avro record")
    try:
        parsed: Any = parse_schema(raw, named_schemas={})
        canonical = to_parsing_canonical_form(raw)
    except Exception as exc:  # fastavro raises several types for a bad schema
        raise SchemaError(f"{source}: invalid Avro schema: {exc}") from exc
    name = str(parsed["name"])
    zero_width = _zero_width_collection(parsed, {}, name)
    if zero_width is not None:
        raise SchemaError(
            f"{source}: {zero_width} has items that encode to zero bytes; a few bytes could then "
            "announce an unbounded number of items"
        )
    return RegisteredSchema(
        name=name,
        fingerprint=fingerprint_of(canonical),
        canonical_form=canonical,
        schema=raw,
        parsed=parsed,
        source=source,
    )


def _zero_width_collection(schema: Any, named: dict[str, Any], path: str) -> str | None:
    """The path of the first array or map whose items take no bytes on the wire, if any."""
    if isinstance(schema, list):
        for branch in schema:
            found = _zero_width_collection(branch, named, path)
            if found is not None:
                return found
        return None
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if kind in ("record", "enum", "fixed"):
        named.setdefault(schema["name"], schema)
    if kind == "record":
        for field in schema["fields"]:
            found = _zero_width_collection(field["type"], named, f"{path}.{field['name']}")
            if found is not None:
                return found
        return None
    if kind in ("array", "map"):
        items = schema["items"] if kind == "array" else schema["values"]
        if _encodes_to_nothing(items, named, frozenset()):
            return path
        return _zero_width_collection(items, named, f"{path}[]")
    return None


def _encodes_to_nothing(schema: Any, named: dict[str, Any], visiting: frozenset[str]) -> bool:
    if isinstance(schema, str):
        if schema == "null":
            return True
        target = named.get(schema)
        return target is not None and _encodes_to_nothing(target, named, visiting)
    if not isinstance(schema, dict):
        return False  # a union writes its branch index
    kind = schema.get("type")
    if kind == "null":
        return True
    if kind == "fixed":
        return int(schema["size"]) == 0
    if kind == "record" and schema["name"] not in visiting:
        inner = visiting | {schema["name"]}
        return all(_encodes_to_nothing(f["type"], named, inner) for f in schema["fields"])
    return False


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, str]]:
    for child in node.iterdir():
        relative = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, relative + "/")
        elif child.name.endswith(".avsc"):
            yield relative, child.read_text(encoding="utf-8")


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort ``X.2.avsc`` before ``X.10.avsc``."""
    key: list[tuple[int, int | str]] = []
    for part in text.replace("/", ".").split("."):
        key.append((0, int(part)) if part.isdigit() else (1, part))
    return key
