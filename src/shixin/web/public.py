"""The public list (供公众免费查询): listed entries marked public, with personal ID numbers masked.

Only an entry that is listed now and public is here; a warned, shielded or revoked entry, or one
not suitable for publication (依法不宜公开), never is. A resident ID number shows with the birth
month and day masked (``3423011964****3224``); an entity's unified social credit code is public.
A search takes the exact name (as the national query platform does) or the full ID number or
credit code; results are paged, newest listing first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

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


class _Row:
    __slots__ = ("birth", "fields", "id_number", "listed_at", "name")

    def __init__(self, raw: dict[str, Any]) -> None:
        subject = raw["subject"]
        person = subject["kind"] == "person"
        self.id_number = str(subject["id"]).upper()
        self.name = str(subject["name"]).strip()
        self.listed_at = raw.get("listed_at") or ""
        self.birth = resident_id_birth_date(self.id_number) if person else None
        basis = raw.get("basis") or {}
        self.fields: dict[str, Any] = {
            "entry_id": raw["entry_id"],
            "case_no": raw["case_no"],
            "kind": subject["kind"],
            "name": subject["name"],
            "id_number": mask_resident_id(self.id_number) if person else self.id_number,
            "sex": (subject.get("sex") or resident_id_sex(self.id_number)) if person else None,
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

    def shown(self, today: date) -> dict[str, Any]:
        if self.birth is None:
            return {**self.fields, "age": None}
        return {**self.fields, "age": _age(self.birth, today)}


def publishable(raw: dict[str, Any] | None) -> bool:
    return (
        raw is not None
        and raw.get("state") == "listed"
        and raw.get("public", True) is True
        and raw.get("subject") is not None
    )


class PublicList:
    """An index of the publishable entries, kept up to date entry by entry."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._by_name: dict[str, set[str]] = {}
        self._by_id: dict[str, set[str]] = {}
        self._order: list[str] | None = None  # newest first; rebuilt when the list changed

    def __len__(self) -> int:
        return len(self._rows)

    def update(self, entry_id: str, raw: dict[str, Any] | None) -> None:
        old = self._rows.pop(entry_id, None)
        if old is not None:
            self._by_name.get(old.name, set()).discard(entry_id)
            self._by_id.get(old.id_number, set()).discard(entry_id)
        if publishable(raw):
            assert raw is not None
            row = _Row(raw)
            self._rows[entry_id] = row
            self._by_name.setdefault(row.name, set()).add(entry_id)
            self._by_id.setdefault(row.id_number, set()).add(entry_id)
        if old is not None or entry_id in self._rows:
            self._order = None

    def _sorted(self, ids: set[str] | None) -> list[str]:
        if ids is not None:
            return sorted(ids, key=lambda e: (self._rows[e].listed_at, e), reverse=True)
        if self._order is None:
            self._order = sorted(
                self._rows, key=lambda e: (self._rows[e].listed_at, e), reverse=True
            )
        return self._order

    def search(
        self,
        today: date,
        name: str | None = None,
        id_number: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> PublicPage:
        ids: set[str] | None = None
        if name is not None:
            ids = set(self._by_name.get(name.strip(), ()))
        if id_number is not None:
            found = self._by_id.get(id_number.strip().upper(), set())
            ids = set(found) if ids is None else ids & found
        order = self._sorted(ids)
        start = (page - 1) * page_size
        return PublicPage(
            total=len(order),
            page=page,
            page_size=page_size,
            items=[
                PublicEntry.model_validate(self._rows[e].shown(today))
                for e in order[start : start + page_size]
            ],
        )
