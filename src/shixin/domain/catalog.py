"""The sanction catalog: which measures exist, who enforces them, and whom they bind.

The catalog is data (``data/catalog.yaml``), validated on load; no rule about a particular measure
lives in code. Loading takes the file's text so the core never touches the file system.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shixin.domain.events import RELATED_ROLES, RelatedRole, SubjectKind

Mode = Literal["prohibit", "restrict", "prudential_reference", "notify", "supervise"]
Execution = Literal["automatic", "manual"]
CATEGORIES: dict[int, tuple[str, str]] = {
    1: ("从事特定行业或项目限制", "Restrictions on specific industries and projects"),
    2: ("政府支持或补贴限制", "Restrictions on government support and subsidies"),
    3: ("任职资格限制", "Restrictions on holding posts"),
    4: ("准入资格限制", "Restrictions on market access"),
    5: ("荣誉和授信限制", "Restrictions on honours and credit"),
    6: ("特殊市场交易限制", "Restrictions on special market transactions"),
    7: ("限制高消费及有关消费", "Restrictions on high and related consumption"),
    8: ("协助查询、控制及出境限制", "Assistance with queries and control; exit restriction"),
    9: ("加强日常监管检查", "Stronger routine supervision"),
    10: ("加大刑事惩戒力度", "Criminal enforcement"),
    11: ("鼓励其他方面限制", "Other restrictions by other bodies"),
}

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]*$", max_length=64)]
DebtorRole = Literal["debtor"]
Role = DebtorRole | RelatedRole


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    id: Id
    name_zh: str
    name_en: str
    # automatic: its interception system applies and lifts by itself; manual: a person acts.
    execution: Execution


class Measure(_Model):
    id: Id
    category: Annotated[int, Field(ge=1, le=11)]
    item: str = Field(description="the brief's numbering, e.g. '7(1)'")
    title_zh: str
    title_en: str
    departments: tuple[Id, ...] = Field(min_length=1)
    subject_kinds: tuple[SubjectKind, ...] = Field(min_length=1)
    related_roles: tuple[RelatedRole, ...] = ()
    mode: Mode
    actions: tuple[Id, ...] = ()
    lift_days: Annotated[int, Field(ge=0, le=365)] = 3

    def binds(self, kind: SubjectKind, role: Role) -> bool:
        """Whether this measure applies to a subject of `kind` named in an entry as `role`."""
        if role == "debtor":
            return kind in self.subject_kinds
        return kind == "person" and role in self.related_roles


class Catalog(_Model):
    version: str
    departments: tuple[Department, ...]
    measures: tuple[Measure, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        errors: list[str] = []
        dept_ids = [d.id for d in self.departments]
        errors += [f"department {d} is defined twice" for d in _repeated(dept_ids)]
        errors += [f"measure {m} is defined twice" for m in _repeated(m.id for m in self.measures)]
        known = set(dept_ids)
        for measure in self.measures:
            for dept in measure.departments:
                if dept not in known:
                    errors.append(f"measure {measure.id} names unknown department {dept}")
            if measure.related_roles and "entity" not in measure.subject_kinds:
                errors.append(
                    f"measure {measure.id} extends to related persons but does not bind entities"
                )
        used = {d for m in self.measures for d in m.departments}
        errors += [f"department {d} has no measure" for d in dept_ids if d not in used]
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @cached_property
    def department_by_id(self) -> Mapping[str, Department]:
        return {d.id: d for d in self.departments}

    @cached_property
    def measure_by_id(self) -> Mapping[str, Measure]:
        return {m.id: m for m in self.measures}

    @cached_property
    def _measures_by_department(self) -> Mapping[str, tuple[Measure, ...]]:
        return {
            d.id: tuple(m for m in self.measures if d.id in m.departments) for d in self.departments
        }

    def measures_of(self, department_id: str) -> tuple[Measure, ...]:
        return self._measures_by_department.get(department_id, ())

    @cached_property
    def _measures_binding_cache(self) -> dict[tuple[str, str, str], tuple[Measure, ...]]:
        return {}

    def measures_binding(self, department_id: str, kind: str, role: str) -> tuple[Measure, ...]:
        """The department's measures that bind a subject of `kind` named as `role` (cached:
        the department fold asks this for every entry of every status)."""
        key = (department_id, kind, role)
        found = self._measures_binding_cache.get(key)
        if found is None:
            found = self._measures_binding_cache[key] = tuple(
                m
                for m in self.measures_of(department_id)
                if m.binds(kind, role)  # type: ignore[arg-type]
            )
        return found

    @cached_property
    def _measure_ids_cache(self) -> dict[tuple[str, str, tuple[str, ...]], tuple[str, ...]]:
        return {}

    def measure_ids_binding(
        self, department_id: str, kind: str, roles: tuple[str, ...]
    ) -> tuple[str, ...]:
        """The ids of the department's measures that bind a subject of `kind` named in any of
        `roles`, each once, in catalog order (cached: the department fold asks for every entry
        of every status)."""
        key = (department_id, kind, roles)
        found = self._measure_ids_cache.get(key)
        if found is None:
            ids = [m.id for role in roles for m in self.measures_binding(department_id, kind, role)]
            found = self._measure_ids_cache[key] = tuple(dict.fromkeys(ids))
        return found

    @cached_property
    def _lift_days_cache(self) -> dict[str, int]:
        return {}

    def lift_days(self, department_id: str) -> int:
        """The shortest lift period of the department's measures (its lift obligation's)."""
        found = self._lift_days_cache.get(department_id)
        if found is None:
            found = self._lift_days_cache[department_id] = min(
                m.lift_days for m in self.measures_of(department_id)
            )
        return found

    @cached_property
    def _binding_ids_cache(self) -> dict[tuple[str, frozenset[str]], frozenset[str]]:
        return {}

    def department_ids_binding(self, kind: SubjectKind, roles: Iterable[str]) -> frozenset[str]:
        """The ids of the departments with a measure that binds a subject of `kind` named in any
        of `roles` (any other department has nothing to do with the subject, now or ever)."""
        key = (kind, frozenset(roles))
        found = self._binding_ids_cache.get(key)
        if found is None:
            found = self._binding_ids_cache[key] = frozenset(
                d.id
                for d in self.departments
                if any(m.binds(kind, r) for m in self.measures_of(d.id) for r in key[1])  # type: ignore[arg-type]
            )
        return found

    def measure_execution(self, measure: Measure) -> str:
        kinds = {self.department_by_id[d].execution for d in measure.departments}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    @cached_property
    def _blocking_cache(self) -> dict[str, tuple[Measure, ...]]:
        return {}

    def measures_blocking(self, action: str) -> tuple[Measure, ...]:
        """The measures that block `action` (cached per known action: every interception check
        asks; an action no measure blocks is not remembered, so any text may be asked)."""
        found = self._blocking_cache.get(action)
        if found is None:
            found = tuple(m for m in self.measures if action in m.actions)
            if found:
                self._blocking_cache[action] = found
        return found

    @cached_property
    def actions(self) -> tuple[str, ...]:
        return tuple(sorted({a for m in self.measures for a in m.actions}))


def _repeated(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen:
            repeated.append(value)
        seen.add(value)
    return repeated


def load_catalog(text: str) -> Catalog:
    """Parse and validate a catalog from YAML (JSON is YAML too)."""
    return Catalog.model_validate(yaml.safe_load(text))


__all__ = [
    "CATEGORIES",
    "RELATED_ROLES",
    "Catalog",
    "Department",
    "Measure",
    "Role",
    "load_catalog",
]
