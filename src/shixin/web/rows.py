"""One replicated table in an api worker: each row kept as the JSON its changelog record carried.

An api worker holds every row of every table (DESIGN §7: no broker round trip per request). As
parsed dicts the rows took four to five times their JSON (a department's row: about 2.4 KB as a
dict, 480 B as JSON; an entry 7.5 KB against 1.7 KB), and a subject has a row in about 33
department tables: the real list's millions of subjects would not fit a worker. So rows stay
bytes, parsed when read (one subject's rows per request); what is asked of every row (counts,
a department's page of rows in one state) comes from a label kept per row (its state),
maintained as rows come, so no request parses the whole table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

Label = Callable[[Any], str | None]  # None: no label (a row missing what labels it)
# (key, label before, label now): None where the row was absent
LabelChange = Callable[[str, str | None, str | None], None]


class Rows(MutableMapping[str, Any]):
    """key -> the row's JSON form, read as parsed JSON (a fresh dict at each read: edit freely).
    `raw(key)` gives the stored bytes, the same object until the row changes (what answer
    caches compare by identity)."""

    def __init__(self, label: Label | None = None, on_label: LabelChange | None = None) -> None:
        self._rows: dict[str, bytes] = {}
        self._label = label
        self._on_label = on_label
        self._labelled: dict[str, set[str]] = {}  # label -> keys

    def raw(self, key: str) -> bytes | None:
        return self._rows.get(key)

    def raw_items(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._rows.items())

    def put_raw(self, key: str, value: bytes | None, parsed: Any = None) -> None:
        """A changelog record's value (None: a tombstone, the key was deleted). `parsed`: the
        value already parsed, if the caller has it (else it is parsed here when labelled)."""
        key = sys.intern(key)  # one string per key, in however many tables (a subject's ~34)
        if value is None:
            if self._rows.pop(key, None) is not None:
                self._relabel(key, None)
            return
        self._rows[key] = value
        if self._label is not None:
            self._relabel(key, self._label(json.loads(value) if parsed is None else parsed))

    def _relabel(self, key: str, label: str | None) -> None:
        if self._label is None:
            return
        before = next((name for name, keys in self._labelled.items() if key in keys), None)
        if before == label:
            return
        if before is not None:
            self._labelled[before].discard(key)
        if label is not None:
            self._labelled.setdefault(label, set()).add(key)
        if self._on_label is not None:
            self._on_label(key, before, label)

    def labelled(self, label: str) -> set[str]:
        """The keys whose row has this label now."""
        return set(self._labelled.get(label, ()))

    def counts(self) -> dict[str, int]:
        """label -> rows with it (labels no row has left out)."""
        return {name: len(keys) for name, keys in self._labelled.items() if keys}

    def count(self, label: str) -> int:
        return len(self._labelled.get(label, ()))

    def __getitem__(self, key: str) -> Any:
        return json.loads(self._rows[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.put_raw(key, json.dumps(value, ensure_ascii=False).encode("utf-8"), value)

    def __delitem__(self, key: str) -> None:
        if key not in self._rows:
            raise KeyError(key)
        self.put_raw(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)
