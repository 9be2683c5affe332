"""Where the catalog comes from: the file named by SHIXIN_CATALOG, else the packaged one."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from shixin.domain.catalog import Catalog, load_catalog


def packaged_catalog_text() -> str:
    return (resources.files("shixin.domain") / "data" / "catalog.yaml").read_text("utf-8")


@lru_cache(maxsize=8)
def get_catalog(path: str | None = None) -> Catalog:
    text = Path(path).read_text("utf-8") if path else packaged_catalog_text()
    return load_catalog(text)
