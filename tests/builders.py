"""Build court events in their JSON form for tests (valid unless a test breaks them)."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from shixin.domain.identifiers import make_credit_code, make_resident_id

_seq = itertools.count(1)
COURT = {"code": "C360483", "name": "庐山市人民法院"}


def person_id(n: int, birth: date = date(1980, 5, 17)) -> str:
    return make_resident_id("360483", birth, n % 1000)


def entity_id(n: int) -> str:
    return make_credit_code("9", "1", "360483", f"{n:08d}")


def _base(kind: str, entry_id: str, at: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=next(_seq) + 10**20)),
        "type": kind,
        "entry_id": entry_id,
        "case_no": fields.pop("case_no", f"(2024)赣0483执{abs(hash(entry_id)) % 9000 + 1}号"),
        "court": COURT,
        "occurred_at": at,
        **fields,
    }


def warned(entry_id: str, at: str = "2024-03-01T10:00:00+08:00") -> dict[str, Any]:
    return _base("RiskWarningIssued", entry_id, at, served_at=at)


def listed(
    entry_id: str,
    subject_id: str,
    at: str = "2024-03-11T10:00:00+08:00",
    kind: str = "person",
    related: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "kind": kind,
        "id": subject_id,
        "name": "张三" if kind == "person" else "某某有限公司",
    }
    if kind == "entity":
        subject["legal_representative"] = "李四"
    return _base(
        "DebtorListed",
        entry_id,
        at,
        subject=subject,
        related_persons=list(related),
        grounds=[1],
        term_ends_on=None,
        basis={"doc_no": "(2023)赣0483民初1号", "issuer": "庐山市人民法院"},
        obligation="支付货款100000元",
        performance="none",
        performed_part="",
        unperformed_part="100000元",
        filed_on="2024-01-05",
        decision_served_at=at,
        public=True,
        **fields,
    )


def corrected(entry_id: str, changes: dict[str, Any], at: str) -> dict[str, Any]:
    return _base("ListingCorrected", entry_id, at, changes=changes, reason="更正")


def performed(entry_id: str, at: str, ground: str = "performed") -> dict[str, Any]:
    return _base("ObligationPerformed", entry_id, at, ground=ground)


def shielded(entry_id: str, at: str, ground: str = "performed") -> dict[str, Any]:
    return _base("ListingShielded", entry_id, at, ground=ground)


def revoked(entry_id: str, at: str, ground: str = "wrongly_listed") -> dict[str, Any]:
    return _base("ListingRevoked", entry_id, at, ground=ground)


def confirmation(kind: str, department: str, subject_id: str, at: str) -> dict[str, Any]:
    """A person's confirmation of a department's action (every pending measure)."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "department": department,
        "subject_id": subject_id,
        "measures": [],
        "at": at,
        "origin": "person",
    }


def write_jsonl(path: Path, events: Iterable[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8"
    )
    return path
