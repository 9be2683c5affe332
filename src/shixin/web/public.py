"""The public list (供公众免费查询): listed entries marked public, with personal ID numbers masked.

Only an entry that is listed now and public is here; a warned, shielded or revoked entry, or one
not suitable for publication (依法不宜公开), never is. A resident ID number shows with the birth
month and day masked (``3423011964****3224``); an entity's unified social credit code is public.
A search takes the exact name (as the national query platform does) or the full ID number or
credit code; results are paged, newest listing first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sortedcontainers import SortedList

from shixin.domain.identifiers import mask_resident_id, resident_id_birth_date, resident_id_sex


class PublicCourt(BaseModel):
    code: str
    name: str


class PublicEntry(BaseModel):
    """The published fields of one entry (SPC 2017 Art. 6)."""

    model_config = ConfigDict(extra="forbid")

    entry_id: str
    case_no: str
    kind: str
    name: str
    # persons: the resident ID masked; entities: the unified social credit code
    id_number: str
    sex: str | None = None
    age: int | None = None
    legal_representative: str | None = None
    court: PublicCourt
    basis_doc_no: str | None = None
    basis_issuer: str | None = None
    obligation: str
    performance: str
    performed_part: str
    unperformed_part: str
    grounds: list[int]
    filed_on: str | None = None
    listed_at: str | None = None


class PublicPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[PublicEntry]


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def public_fields(raw: dict[str, Any], today: date) -> dict[str, Any]:
    """An entry's row (publishable) as the public list shows it on `today` (the age changes)."""
    subject = raw["subject"]
    person = subject["kind"] == "person"
    id_number = str(subject["id"]).upper()
    birth = resident_id_birth_date(id_number) if person else None
    basis = raw.get("basis") or {}
    return {
        "entry_id": raw["entry_id"],
        "case_no": raw["case_no"],
        "kind": subject["kind"],
        "name": subject["name"],
        "id_number": mask_resident_id(id_number) if person else id_number,
        "sex": (subject.get("sex") or resident_id_sex(id_number)) if person else None,
        "age": None if birth is None else _age(birth, today),
        "legal_representative": None if person else subject.get("legal_representative"),
        "court": {"code": raw["court"]["code"], "name": raw["court"]["name"]},
        "basis_doc_no": basis.get("doc_no"),
        "basis_issuer": basis.get("issuer"),
        "obligation": raw.get("obligation", ""),
        "performance": raw.get("performance", "none"),
        "performed_part": raw.get("performed_part", ""),
        "unperformed_part": raw.get("unperformed_part", ""),
        "grounds": list(raw.get("grounds", ())),
        "filed_on": raw.get("filed_on"),
        "listed_at": raw.get("listed_at"),
    }


def publishable(raw: dict[str, Any] | None) -> bool:
    return (
        raw is not None
        and raw.get("state") == "listed"
        and raw.get("public", True) is True
        and raw.get("subject") is not None
    )


Order = tuple[str, str]  # (listed at, entry id): the list is newest first, this order reversed


class PublicList:
    """An index of the publishable entries, kept up to date entry by entry.

    It keeps what a search needs (each entry's name, ID number and place in the order) and reads
    the page's rows from the entries replica (`entry`): the rows themselves are kept once,
    packed (`projections/rows.py`). Newest first is the end of a sorted list read backwards, so
    a page of the whole list is a slice at any size (sorting the list after each change took
    seconds per request at millions of entries, and this is the page anyone may ask for without
    a token)."""

    def __init__(self, entry: Callable[[str], dict[str, Any] | None]) -> None:
        self._entry = entry
        self._keys: dict[str, tuple[str, str, Order]] = {}  # id -> (name, ID number, order)
        self._by_name: dict[str, tuple[str, ...]] = {}
        self._by_id: dict[str, tuple[str, ...]] = {}
        self._order = SortedList()

    def __len__(self) -> int:
        return len(self._keys)

    def update(self, entry_id: str, raw: dict[str, Any] | None) -> None:
        """The entry's row now (None: deleted), as the entries replica holds it."""
        old = self._keys.pop(entry_id, None)
        if old is not None:
            name, id_number, order = old
            _drop(self._by_name, name, entry_id)
            _drop(self._by_id, id_number, entry_id)
            self._order.remove(order)
        if raw is None or not publishable(raw):
            return
        subject = raw["subject"]
        name, id_number = str(subject["name"]).strip(), str(subject["id"]).upper()
        order = (raw.get("listed_at") or "", entry_id)
        self._keys[entry_id] = (name, id_number, order)
        self._by_name[name] = (*self._by_name.get(name, ()), entry_id)
        self._by_id[id_number] = (*self._by_id.get(id_number, ()), entry_id)
        self._order.add(order)

    def search(
        self,
        today: date,
        name: str | None = None,
        id_number: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> PublicPage:
        start = (page - 1) * page_size
        if name is None and id_number is None:
            total = len(self._order)
            # newest first: the sorted list's end, backwards
            shown = [
                e for _, e in self._order[max(0, total - start - page_size) : max(0, total - start)]
            ]
            shown.reverse()
        else:
            ids: set[str] | None = None
            if name is not None:
                ids = set(self._by_name.get(name.strip(), ()))
            if id_number is not None:
                found = set(self._by_id.get(id_number.strip().upper(), ()))
                ids = found if ids is None else ids & found
            ordered = sorted((self._keys[e][2] for e in ids or ()), reverse=True)
            total = len(ordered)
            shown = [e for _, e in ordered[start : start + page_size]]
        items = []
        for entry_id in shown:
            raw = self._entry(entry_id)
            if raw is not None:
                items.append(PublicEntry.model_validate(public_fields(raw, today)))
        return PublicPage(total=total, page=page, page_size=page_size, items=items)


def _drop(index: dict[str, tuple[str, ...]], key: str, entry_id: str) -> None:
    kept = tuple(e for e in index.get(key, ()) if e != entry_id)
    if kept:
        index[key] = kept
    else:
        index.pop(key, None)
