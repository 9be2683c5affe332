"""The subject fold: which listed entries name a subject (debtor or related person), and how.

An entry tells each subject it has ever named what it says about them now (an :class:`EntryFacet`
carrying the entry's version). The fold keeps the newest facet per entry and ignores older ones,
so facets may be redelivered or replayed without harm. After every change the subject's whole
current truth is published as a :class:`SubjectStatus` snapshot (DESIGN §4): departments compute
their measures from it alone.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shixin.domain.build import build, evolve
from shixin.domain.entries import Entry
from shixin.domain.events import SubjectKind


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubjectEntry(_Model):
    """What one entry says about one subject.

    ``named`` False: a correction moved the entry away from this subject at ``unnamed_at``;
    ``roles`` are then the roles it named them in before.
    """

    entry_id: str
    version: int
    roles: tuple[str, ...]
    named: bool = True
    listed: bool
    case_no: str
    court_code: str
    court_name: str
    listed_at: AwareDatetime | None = None
    left_at: AwareDatetime | None = None
    unnamed_at: AwareDatetime | None = None

    @property
    def active(self) -> bool:
        return self.listed and self.named

    @property
    def stopped_at(self) -> AwareDatetime | None:
        """When this entry stopped requiring anything of this subject (None: it still does)."""
        if not self.named:
            return self.unnamed_at
        return None if self.listed else self.left_at


class EntryFacet(_Model):
    """The message from the entry fold to the subject fold (keyed by subject id)."""

    subject_id: str
    subject_kind: SubjectKind
    entry: SubjectEntry
    cause_event_id: str
    occurred_at: AwareDatetime


class SubjectState(_Model):
    subject_id: str
    kind: SubjectKind
    version: int
    entries: dict[str, SubjectEntry]

    @property
    def active_entry_ids(self) -> list[str]:
        return sorted(e.entry_id for e in self.entries.values() if e.active)

    @property
    def sanctionable(self) -> bool:
        return any(e.active for e in self.entries.values())


class SubjectStatus(_Model):
    """The whole current truth about one subject (topic ``subject.status``)."""

    subject_id: str
    kind: SubjectKind
    version: int
    sanctionable: bool
    # every entry that names the subject, listed or not (departments need history to lift)
    entries: tuple[SubjectEntry, ...]
    cause_event_id: str
    occurred_at: AwareDatetime


def entry_facets(entry: Entry, cause_event_id: str) -> list[EntryFacet]:
    """What `entry` says now to every subject it names or has ever named."""
    named = entry.namings()
    facets = []
    for subject_id in sorted(set(named) | set(entry.named_ever)):
        kind, roles = named.get(subject_id) or entry.named_ever[subject_id]
        facets.append(
            build(
                EntryFacet,
                subject_id=subject_id,
                subject_kind=kind,
                entry=build(
                    SubjectEntry,
                    entry_id=entry.entry_id,
                    version=entry.version,
                    roles=roles,
                    named=subject_id in named,
                    listed=entry.is_listed,
                    case_no=entry.case_no,
                    court_code=entry.court.code,
                    court_name=entry.court.name,
                    listed_at=entry.listed_at,
                    left_at=entry.left_at,
                    unnamed_at=None if subject_id in named else entry.last_event_at,
                ),
                cause_event_id=cause_event_id,
                occurred_at=entry.last_event_at,
            )
        )
    return facets


def apply_facet(state: SubjectState | None, facet: EntryFacet) -> SubjectState | None:
    """Fold one facet; return the new state, or None when it changes nothing (stale or same)."""
    current = state.entries.get(facet.entry.entry_id) if state else None
    if current is not None and current.version >= facet.entry.version:
        return None
    if state is None and not facet.entry.named:
        return None  # never named here: nothing to remember
    if state is None:
        return build(
            SubjectState,
            subject_id=facet.subject_id,
            kind=facet.subject_kind,
            version=1,
            entries={facet.entry.entry_id: facet.entry},
        )
    return evolve(
        state,
        version=state.version + 1,
        entries={**state.entries, facet.entry.entry_id: facet.entry},
    )


def status_of(state: SubjectState, facet: EntryFacet) -> SubjectStatus:
    return build(
        SubjectStatus,
        subject_id=state.subject_id,
        kind=state.kind,
        version=state.version,
        sanctionable=state.sanctionable,
        entries=tuple(e for _, e in sorted(state.entries.items())),
        cause_event_id=facet.cause_event_id,
        occurred_at=facet.occurred_at,
    )
