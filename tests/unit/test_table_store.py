"""Every table of an app gets the bounded RocksDB options of the settings (Faust's own defaults
are a 64 MB memtable and a 2 GB block cache per partition database)."""

from __future__ import annotations

from pathlib import Path

import faust

from shixin.runtime.settings import Settings
from shixin.runtime.table_store import rocksdb_options
from shixin.streams.app import make_app


def test_rocksdb_tables_get_the_settings_options(tmp_path: Path) -> None:
    settings = Settings(
        store="rocksdb://",
        data_dir=str(tmp_path),
        rocksdb_write_buffer_size=512 << 10,
        rocksdb_block_cache_size=128 << 10,
    )
    app = make_app("court", settings, "127.0.0.1:9")
    entries = app.Table("entries", partitions=settings.partitions)
    subjects = app.Table("subjects", partitions=settings.partitions)
    for table in (entries, subjects):
        options = table.data.rocksdb_options
        assert options.write_buffer_size == 512 << 10
        assert options.block_cache_size == 128 << 10
        assert options.max_write_buffer_number == settings.rocksdb_max_write_buffer_number
        assert options.max_open_files == settings.rocksdb_max_open_files
    # each table has its own copy: Faust's store pops keys from the dict it is given
    assert entries.options is not subjects.options
    assert rocksdb_options(settings)["write_buffer_size"] == 512 << 10


def test_options_of_a_table_itself_win_and_the_memory_store_is_untouched(tmp_path: Path) -> None:
    settings = Settings(store="rocksdb://", data_dir=str(tmp_path))
    app = make_app("court", settings, "127.0.0.1:9")
    table = app.Table("own", partitions=1, options={"write_buffer_size": 1 << 20})
    assert table.data.rocksdb_options.write_buffer_size == 1 << 20
    memory = make_app("court", Settings(), "127.0.0.1:9")
    assert memory.conf.Table is faust.Table
