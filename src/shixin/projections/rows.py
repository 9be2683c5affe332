"""One replicated table in an api worker: each row kept as its JSON, compressed.

An api worker holds every row of every table (DESIGN §7: no broker round trip per request). As
parsed dicts the rows took four to five times their JSON (a department's row: about 2.4 KB as a
dict, 480 B as JSON; an entry 7.5 KB against 1.7 KB), and a subject has a row in about 33
department tables: the real list's millions of subjects would not fit a worker. So a row is kept
as bytes and parsed when read (a request reads one subject's rows); what is asked of every row
(counts, a department's page of rows in one state) comes from a label kept per row (its state),
maintained as rows come, so no request parses the whole table.

The bytes are the row's JSON compressed with zstd and a dictionary trained on the table's first
rows, whose keys and values the later ones repeat (a department's row: 540 -> 64 bytes, about
2 µs to pack as it comes and 1 µs to unpack when read; zlib with the first rows as a preset
dictionary, session 7, gave 74 bytes for 12 µs to pack). Until the table has given enough rows
for a dictionary, rows stay plain JSON; then those are packed too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any, cast

import zstandard
from pydantic_core import from_json
from sortedcontainers import SortedList

Label = Callable[[Any], str | None]  # None: no label (a row missing what labels it)
# (key, label before, label now): None where the row was absent
LabelChange = Callable[[str, str | None, str | None], None]

DICTIONARY_ROWS = 256  # rows the dictionary is trained on (the table's first)
DICTIONARY_BYTES = 16_384
LEVEL = 3  # level 6 saves 5% more for 3x the time to pack
_PACKED = b"\x00"  # first byte of a packed row (a row's JSON starts with "{")


_NONE: Sequence[str] = ()


class Rows(MutableMapping[str, Any]):
    """key -> the row's JSON form, read as parsed JSON (a fresh dict at each read: edit freely).

    `stored(key)` gives the bytes kept, the same object until the row changes (what answer caches
    compare by identity); `json(key)` the row's JSON."""

    def __init__(
        self,
        label: Label | None = None,
        on_label: LabelChange | None = None,
        ordered: bool = False,
        on_put: Callable[[str, Any], None] | None = None,
    ) -> None:
        self._rows: dict[str, bytes] = {}
        self._label = label
        self._on_label = on_label
        self._on_put = on_put  # (key, the row parsed or None): before the row is kept
        # label -> its keys in order; `ordered`: every key in order too (pages of all rows)
        self._labelled: dict[str, SortedList] = {}
        self._ordered: SortedList | None = SortedList() if ordered else None
        self._codec: _Codec | None = None
        self._sample: list[bytes] = []

    # --- reading -------------------------------------------------------------------------------

    def stored(self, key: str) -> bytes | None:
        return self._rows.get(key)

    def stored_items(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._rows.items())

    def json(self, key: str) -> bytes | None:
        stored = self._rows.get(key)
        return None if stored is None else self.unpack(stored)

    def unpack(self, stored: bytes) -> bytes:
        """A row's JSON from what `stored` gave."""
        if stored[:1] != _PACKED or self._codec is None:
            return stored
        return self._codec.unpack(stored)

    def __getitem__(self, key: str) -> Any:
        return from_json(self.unpack(self._rows[key]))

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    # --- writing -------------------------------------------------------------------------------

    def put_raw(self, key: str, value: bytes | None, parsed: Any = None) -> None:
        """A changelog record's value (None: a tombstone, the key was deleted). `parsed`: the
        value already parsed, if the caller has it (else it is parsed here when labelled)."""
        key = sys.intern(key)  # one string per key, in however many tables (a subject's ~34)
        if value is not None and parsed is None and (self._label or self._on_put):
            parsed = from_json(value)
        if self._on_put is not None:
            self._on_put(key, None if value is None else parsed)
        if value is None:
            if self._rows.pop(key, None) is not None:
                self._relabel(key, None)
                if self._ordered is not None:
                    self._ordered.remove(key)
            return
        known = key in self._rows
        if self._ordered is not None and not known:
            self._ordered.add(key)
        self._rows[key] = self._pack(value)
        if self._label is not None:
            self._relabel(key, self._label(parsed), known)

    def __setitem__(self, key: str, value: Any) -> None:
        self.put_raw(key, json.dumps(value, ensure_ascii=False).encode("utf-8"), value)

    def __delitem__(self, key: str) -> None:
        if key not in self._rows:
            raise KeyError(key)
        self.put_raw(key, None)

    def _pack(self, value: bytes) -> bytes:
        if self._codec is None:
            self._sample.append(value)
            if len(self._sample) < DICTIONARY_ROWS:
                return value
            self._codec = codec = _Codec(self._sample)
            self._sample = []
            for key, stored in self._rows.items():
                self._rows[key] = codec.pack(stored)
        return self._codec.pack(value)

    # --- labels --------------------------------------------------------------------------------

    def _relabel(self, key: str, label: str | None, known: bool = True) -> None:
        """`known`: the key had a row (else it had no label to leave)."""
        if self._label is None:
            return
        labelled = self._labelled
        if known and label is not None and key in labelled.get(label, ()):
            return  # most changes keep the row's state: one look-up
        before = None
        if known:
            before = next((name for name, keys in labelled.items() if key in keys), None)
        if before is not None:
            labelled[before].remove(key)
        if label is not None:
            labelled.setdefault(label, SortedList()).add(key)
        if self._on_label is not None:
            self._on_label(key, before, label)

    def labelled(self, label: str) -> Sequence[str]:
        """The keys whose row has this label now, in order (a view: do not change it)."""
        return cast(Sequence[str], self._labelled.get(label, _NONE))

    def ordered(self) -> Sequence[str]:
        """Every key in order (a view); only for a table made `ordered`."""
        if self._ordered is None:
            raise TypeError("this table keeps no key order")
        return cast(Sequence[str], self._ordered)

    def counts(self) -> dict[str, int]:
        """label -> rows with it (labels no row has left out)."""
        return {name: len(keys) for name, keys in self._labelled.items() if keys}

    def count(self, label: str) -> int:
        return len(self._labelled.get(label, ()))


class _Codec:
    """A table's rows to packed bytes and back: zstd frames without the magic number (our own
    first byte marks them) nor a checksum (they never leave the process)."""

    def __init__(self, sample: list[bytes]) -> None:
        dictionary: zstandard.ZstdCompressionDict | None
        try:
            dictionary = zstandard.train_dictionary(
                DICTIONARY_BYTES, list[bytes | bytearray | memoryview](sample), level=LEVEL
            )
            dictionary.precompute_compress(level=LEVEL)
        except zstandard.ZstdError:  # nothing to train on (empty rows): no dictionary
            dictionary = None
        frame = zstandard.FORMAT_ZSTD1_MAGICLESS
        self._compress = zstandard.ZstdCompressor(
            dict_data=dictionary,
            compression_params=zstandard.ZstdCompressionParameters.from_level(
                LEVEL,
                format=frame,
                write_content_size=True,  # what a one-shot decompress needs
                write_checksum=False,
                write_dict_id=False,
            ),
        ).compress
        self._decompress = zstandard.ZstdDecompressor(dict_data=dictionary, format=frame).decompress

    def pack(self, value: bytes) -> bytes:
        return _PACKED + self._compress(value)

    def unpack(self, stored: bytes) -> bytes:
        return self._decompress(memoryview(stored)[1:])
