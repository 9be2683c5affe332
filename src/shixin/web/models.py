"""Requests and responses of the HTTP API as pydantic models: the OpenAPI document's schemas are
generated from these, and the handlers build their answers through them, so both agree."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectEntry

Verdict = Literal["open", "met", "missed", "breached"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(_Out):
    error: str = Field(description="what went wrong, for a person")


class Problem(_Out):
    line: int = Field(description="1-based: the line of a JSON Lines body, or array index + 1")
    reason: str


class Problems(_Out):
    error: str
    problems: list[Problem]


class Accepted(_Out):
    accepted: list[str] = Field(description="the event ids published")


class Confirmation(BaseModel):
    """A person at a manual department confirms what they did (`shixin department confirm`)."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=64)
    action: Literal["apply", "lift", "retain"]
    measures: list[str] = Field(default=[], description="default: every pending measure")
    at: AwareDatetime | None = Field(default=None, description="when it was done; default: now")
    legal_basis: str | None = Field(default=None, description="retain: the law that allows it")
    until: str | None = Field(default=None, description="retain: the end date, YYYY-MM-DD")


class SubjectSummary(_Out):
    subject_id: str
    kind: Literal["person", "entity"]
    sanctionable: bool
    active_entry_ids: list[str]
    entries: list[SubjectEntry]


class SanctionSummary(_Out):
    state: Literal["applied", "lifted", "retained", "pending_apply", "pending_lift"]
    measures: list[str]
    entry_ids: list[str]


class SubjectView(_Out):
    subject: SubjectSummary | None
    sanctions: dict[str, SanctionSummary]


class ObligationRow(_Out):
    id: str
    kind: Literal["court_exit", "correction_review", "department_lift"]
    entry_id: str | None
    department: str | None
    subject_id: str | None
    court: str | None
    opened_at: str | None
    due_on: str | None
    closed_at: str | None
    verdict: Verdict


class ObligationPage(_Out):
    """A page of `shixin query obligations --json`'s rows, in its order (due date, then id)."""

    total: int
    page: int
    page_size: int
    items: list[ObligationRow]


class SlaRow(_Out):
    met: int
    missed: int
    breached: int
    open: int
    lift_hours_median: float | None = None
    lift_hours_p95: float | None = None


class SlaSummary(_Out):
    departments: dict[str, SlaRow]
    courts: dict[str, SlaRow]


class SanctionPage(_Out):
    total: int
    page: int
    page_size: int
    items: list[DepartmentSanction]


class AccessRecord(_Out):
    at: str
    who: str
    role: str
    method: str
    path: str
    subjects: list[str]


class AccessLogPage(_Out):
    records: list[AccessRecord]
    kept: int = Field(description="records this worker keeps in memory (the topic has all)")


class RecentEvent(_Out):
    type: str
    topic: str
    at: str | None
    entry_id: str | None
    case_no: str | None
    court: str | None
    department: str | None


class RecentDeadLetter(_Out):
    at: str | None
    reason: str
    topic: str
    partition: int
    offset: int


class HoursBin(_Out):
    label: str
    from_hours: float
    to_hours: float | None = Field(description="none: no upper bound")
    count: int


class HoursDistribution(_Out):
    unit: Literal["hours"]
    closed: int = Field(description="how many were done")
    median_hours: float | None
    p95_hours: float | None
    bins: list[HoursBin]


class Dashboard(_Out):
    now: str
    ready: bool
    listed_entries: int
    public_entries: int
    sanctionable_subjects: int
    sanctioned_subjects: int
    sanctions_by_department: dict[str, dict[str, int]]
    deadlines: dict[str, int] = Field(description="open, breached, met, missed")
    breached: list[ObligationRow]
    recent_events: list[RecentEvent]
    recent_dead_letters: list[RecentDeadLetter]
    lift_times: HoursDistribution = Field(description="time to lift of the lifts done")


class Health(_Out):
    status: Literal["ok"]


class Ready(_Out):
    ready: bool
    lag: dict[str, int] = Field(description="records still to read per topic, of those at start")
