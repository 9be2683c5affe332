"""Where the data comes from: the catalog (SHIXIN_CATALOG, else the packaged one) and the
deadline policy (SHIXIN_DEADLINE_POLICY: a packaged name or a path)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from shixin.domain.catalog import Catalog, load_catalog
from shixin.domain.policy import PACKAGED_POLICIES, DeadlinePolicy, load_policy


def packaged_catalog_text() -> str:
    return (resources.files("shixin.domain") / "data" / "catalog.yaml").read_text("utf-8")


@lru_cache(maxsize=8)
def get_catalog(path: str | None = None) -> Catalog:
    text = Path(path).read_text("utf-8") if path else packaged_catalog_text()
    return load_catalog(text)


@lru_cache(maxsize=8)
def get_policy(name_or_path: str = "brief") -> DeadlinePolicy:
    if name_or_path in PACKAGED_POLICIES:
        resource = resources.files("shixin.domain") / "data" / "policies" / f"{name_or_path}.yaml"
        return load_policy(resource.read_text("utf-8"))
    return load_policy(Path(name_or_path).read_text("utf-8"))
