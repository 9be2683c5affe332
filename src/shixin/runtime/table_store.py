"""Bounded RocksDB options for every table of an app.

faust-streaming 0.15.3 has no app-wide RocksDB setting: a table's store takes its RocksDB options
from the table's own `options` (faust/stores/rocksdb.py `RocksDBOptions`), and its defaults are
sized for one big table per process: a 64 MB memtable (up to 3 of them) and a 2 GB block cache,
each per partition database. A court worker holds 2 tables x 8 partitions = 16 databases, so
those defaults allow about 3 GB of memtables and 32 GB of block cache. `table_class` gives every
table of an app the bounded options from the settings (Faust's documented `Table=` app option),
unless the table was given options of its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import faust

from shixin.runtime.settings import Settings


def rocksdb_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of Faust's `RocksDBOptions`, per partition database."""
    return {
        "write_buffer_size": settings.rocksdb_write_buffer_size,
        "max_write_buffer_number": settings.rocksdb_max_write_buffer_number,
        "target_file_size_base": settings.rocksdb_target_file_size,
        "block_cache_size": settings.rocksdb_block_cache_size,
        "max_open_files": settings.rocksdb_max_open_files,
    }


class BoundedTable(faust.Table[Any, Any]):
    """A Faust table whose store gets `store_options` when it was given no options."""

    store_options: ClassVar[dict[str, Any]] = {}

    def __init__(self, app: Any, *, options: Any = None, **kwargs: Any) -> None:
        if options is None and self.store_options:
            # a fresh dict per table: Faust's RocksDB store pops keys from the one it is given
            options = dict(self.store_options)
        super().__init__(app, options=options, **kwargs)


def table_class(settings: Settings) -> type[faust.Table[Any, Any]]:
    """The `Table=` app option for these settings (options only for a RocksDB store)."""
    if not settings.store.startswith("rocksdb:"):
        return faust.Table
    return type("BoundedTable", (BoundedTable,), {"store_options": rocksdb_options(settings)})
