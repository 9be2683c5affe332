"""Deadline policies: how long each obligation runs and how its days are counted (DESIGN §4).

A policy is data (``data/policies/*.yaml``), validated on load; loading takes the file's text so
the core never touches the file system. Two policies ship: ``brief`` (the local plan, the default)
and ``spc-2017`` (the SPC rules). The department lift period's length is not in the policy: it is
each measure's ``lift_days`` in the catalog; the policy gives only its unit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shixin.domain.deadlines import Unit, due_date

__all__ = [
    "PACKAGED_POLICIES",
    "DeadlinePolicy",
    "LiftRule",
    "Period",
    "PolicyError",
    "load_policy",
]

# The policies shipped in ``shixin/domain/data/policies/<name>.yaml``; the first is the default.
PACKAGED_POLICIES: tuple[str, ...] = ("brief", "spc-2017")


class PolicyError(ValueError):
    """A policy file is not valid YAML or does not describe a deadline policy."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Model):
    """``length`` ``unit``: ``days`` counted per Civil Procedure Law Art. 85, or working days."""

    length: Annotated[int, Field(ge=1, le=366, strict=True)]
    unit: Unit

    def due(self, start: datetime | date) -> date:
        """The last day (CST) of this period started at ``start``."""
        return due_date(start, self.length, self.unit)


class LiftRule(_Model):
    """The department lift period: its unit here, its length from the catalog's ``lift_days``."""

    unit: Unit

    def due(self, start: datetime | date, lift_days: int) -> date:
        return due_date(start, lift_days, self.unit)


class DeadlinePolicy(_Model):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
    description: str
    # Court shields or revokes after ObligationPerformed (an exit ground).
    court_exit: Period
    # Court reviews a correction application after CorrectionRequested.
    correction_review: Period
    # Departments lift after the entry leaves the list.
    department_lift: LiftRule
    # Court deletes after a listing term ends.
    term_expiry_exit: Period
    # A correction application later than this after decision_served_at is a finding.
    correction_window: Period


def load_policy(text: str) -> DeadlinePolicy:
    """Parse and validate a deadline policy from YAML (JSON is YAML too)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"deadline policy is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"deadline policy must be a mapping of fields, got {type(data).__name__}")
    try:
        return DeadlinePolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"invalid deadline policy: {exc}") from exc
