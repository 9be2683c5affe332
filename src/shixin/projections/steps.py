"""One step of each projection over a key-value store: the glue the live agents and the offline
replay share, so both call the very same core functions in the very same way.

A store is any ``MutableMapping[str, dict]``: a Faust table live, a plain dict or a
:class:`ModelStore` in replay. Values read and written are the models' JSON form; a ModelStore
also keeps the model itself, so the offline replay skips validating every row it reads back (the
JSON form is made once, when someone reads it, and is the same `model_dump` the live path writes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import from_json

from shixin.domain.build import evolve
from shixin.domain.catalog import Catalog, Department
from shixin.domain.entries import Entry, apply_event
from shixin.domain.events import CourtEvent, SanctionEvent
from shixin.domain.obligations import DeadlineEvent, Obligation, obligation_changes
from shixin.domain.policy import DeadlinePolicy
from shixin.domain.sanctions import DepartmentSanction, on_confirmation, on_status
from shixin.domain.subjects import (
    EntryFacet,
    SubjectState,
    SubjectStatus,
    apply_facet,
    entry_facets,
    status_of,
)
from shixin.projections.rows import Rows

Store = MutableMapping[str, Any]
M = TypeVar("M", bound=BaseModel)


class ModelStore(MutableMapping[str, Any]):
    """A store that keeps each value as its model and makes the JSON form only when read.

    With `hot` set, only the `hot` values used last stay models; the others are kept as their
    JSON, packed (`projections/rows.py`), and validated again when used: a replay's tables as
    models took about 60 KB per subject (a row in each of some 33 departments), 60 GB for a
    million subjects; packed, a row takes about a tenth of its model."""

    def __init__(self, model_type: type[BaseModel] | None = None, hot: int | None = None) -> None:
        if hot is not None and model_type is None:
            raise ValueError("a store that packs models must know their type")
        self._models: OrderedDict[str, BaseModel] = OrderedDict()
        self._json: dict[str, Any] = {}  # JSON forms made of the models held
        self._cold = Rows()
        self._type = model_type
        self._hot = hot

    def model(self, key: str) -> BaseModel | None:
        model = self._models.get(key)
        if model is not None:
            if self._hot is not None:
                self._models.move_to_end(key)
            return model
        packed = self._cold.json(key)
        if packed is None or self._type is None:
            return None
        model = self._type.model_validate_json(packed)
        self._cold.put_raw(key, None)
        self._hold(key, model)
        return model

    def models(self) -> Iterator[tuple[str, BaseModel]]:
        """Each key with its model (no JSON form made; packed ones validated one by one)."""
        yield from list(self._models.items())
        for key in list(self._cold):
            packed = self._cold.json(key)
            if packed is not None and self._type is not None:
                yield key, self._type.model_validate_json(packed)

    def put_model(self, key: str, model: BaseModel) -> None:
        self._json.pop(key, None)
        if key in self._cold:
            self._cold.put_raw(key, None)
        self._hold(key, model)

    def _hold(self, key: str, model: BaseModel) -> None:
        self._models[key] = model
        if self._hot is not None:  # (unbounded: the order the keys came in, as a dict's)
            self._models.move_to_end(key)
            while len(self._models) > self._hot:  # the least recently used, packed
                old, cold = self._models.popitem(last=False)
                self._json.pop(old, None)
                self._cold.put_raw(old, cold.model_dump_json().encode())

    def __getitem__(self, key: str) -> Any:
        value = self._json.get(key)
        if value is not None:
            return value
        model = self._models.get(key)
        if model is None:
            packed = self._cold.json(key)
            if packed is None:
                raise KeyError(key)
            return from_json(packed)  # (not kept: cold)
        value = self._json[key] = model.model_dump(mode="json")
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError("a ModelStore takes models (put_model), not their JSON form")

    def __delitem__(self, key: str) -> None:
        if self._models.pop(key, None) is not None:
            self._json.pop(key, None)
        elif key in self._cold:
            self._cold.put_raw(key, None)
        else:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._models or key in self._cold

    def __iter__(self) -> Iterator[str]:
        yield from list(self._models)
        yield from list(self._cold)

    def __len__(self) -> int:
        return len(self._models) + len(self._cold)


def _load(store: Store, key: str, model_type: type[M]) -> M | None:
    if isinstance(store, ModelStore):
        return store.model(key)  # type: ignore[return-value]
    raw = store.get(key)
    return model_type.model_validate(raw) if raw is not None else None


def _save(store: Store, key: str, model: BaseModel) -> None:
    put_model = getattr(store, "put_model", None)  # a store that can use the model itself
    if put_model is not None:
        put_model(key, model)
    else:
        store[key] = model.model_dump(mode="json")


def intake_step(
    entries: Store, event: CourtEvent, position: str, policy: DeadlinePolicy
) -> tuple[list[EntryFacet], list[DeadlineEvent]]:
    """Apply a court event to its entry; return the facets to send to the subjects.

    Raises LifecycleError (a dead letter). A redelivered message re-sends the entry's current
    facets: if a crash lost them after the table write, this is how they still arrive; the
    subject fold ignores them otherwise.
    """
    before = _load(entries, event.entry_id, Entry)
    after = apply_event(before, event, position, policy)
    if after is not before:
        _save(entries, event.entry_id, after)
    changes = obligation_changes(before.obligations if before else (), after.obligations)
    return entry_facets(after, str(event.event_id)), changes


def subject_step(subjects: Store, facet: EntryFacet) -> SubjectStatus | None:
    """Fold a facet into its subject; return the new status snapshot if anything changed."""
    before = _load(subjects, facet.subject_id, SubjectState)
    after = apply_facet(before, facet)
    if after is None:
        return None
    _save(subjects, facet.subject_id, after)
    return status_of(after, facet)


def department_step(
    sanctions: Store,
    status: SubjectStatus,
    catalog: Catalog,
    department: Department,
    at: datetime | None,
    policy: DeadlinePolicy,
) -> tuple[list[SanctionEvent], list[DeadlineEvent]]:
    """Fold a subject status into one department's table; return its feedback.

    `at`: when the department acts (wall clock), or None for the event clock."""
    before = _load(sanctions, status.subject_id, DepartmentSanction)
    after, feedback = on_status(before, status, catalog, department, at, policy)
    if after is None or after is before:
        return feedback, []
    _save(sanctions, status.subject_id, after)
    return feedback, obligation_changes(before.lifts if before else (), after.lifts)


def confirmation_step(sanctions: Store, event: SanctionEvent) -> list[DeadlineEvent] | None:
    """Record a person's confirmation of a manual department's action (None: no such task)."""
    before = _load(sanctions, event.subject_id, DepartmentSanction)
    if before is None:
        return None
    after = on_confirmation(before, event)
    if after is None:
        return None
    _save(sanctions, event.subject_id, after)
    return obligation_changes(before.lifts, after.lifts)


def sla_step(obligations: Store, event: DeadlineEvent) -> Obligation | None:
    """Fold a deadline event into the monitor's table; return the obligation if it changed.

    Events may arrive in any order (their holders are different apps): the record keeps the
    earliest closing time known and remembers whether a breach was reported."""
    raw = obligations.get(event.obligation.id)
    if event.type == "DeadlineCancelled":
        if raw is not None:
            del obligations[event.obligation.id]
        return None
    if event.type == "DeadlineBreached" and raw is None:
        # the monitor's own report, overtaken by a cancellation: the obligation is gone
        return None
    record = dict(raw) if raw is not None else {"breach_reported": False}
    known = Obligation.model_validate(record["obligation"]) if raw is not None else None
    new = event.obligation
    if (
        known is not None
        and known.closed_at is not None
        and (new.closed_at is None or known.closed_at <= new.closed_at)
    ):
        new = evolve(new, closed_at=known.closed_at)
    changed = known != new
    record["obligation"] = new.model_dump(mode="json")
    if event.type == "DeadlineBreached" and not record["breach_reported"]:
        record["breach_reported"] = True
        changed = True
    if changed:
        obligations[new.id] = record
    return new if changed else None
