"""The audit report as one self-contained HTML page, rendered from the report's content alone.

Every number on the page comes from the content dict (the JSON file holds the same dict); this
module adds only words (bilingual labels) and the charts' drawing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from shixin.audit.report_charts import Series, bar_chart

# long tables are cut on the page (the JSON keeps every row); the page says so
ROW_LIMIT = 300

LABELS: dict[str, tuple[str, str]] = {
    # entry states
    "warned": ("已风险提示", "warned"),
    "listed": ("在列", "listed"),
    "shielded": ("已屏蔽", "shielded"),
    "revoked": ("已撤销", "revoked"),
    # verdicts
    "open": ("未到期", "open"),
    "met": ("按时", "met"),
    "missed": ("逾期完成", "missed (late)"),
    "breached": ("超期未办", "breached"),
    # obligations
    "court_exit": ("法院屏蔽或撤销", "court exit"),
    "correction_review": ("纠正申请审查", "correction review"),
    "department_lift": ("部门解除惩戒", "department lift"),
    # sanction states
    "applied": ("已实施", "applied"),
    "pending_apply": ("待实施", "pending apply"),
    "pending_lift": ("待解除", "pending lift"),
    "retained": ("保留", "retained"),
    "lifted": ("已解除或未实施", "lifted or never applied"),
    # findings
    "listed_without_warning": ("未经风险提示即纳入", "listed without a risk warning"),
    "late_correction_request": ("逾期纠正申请", "late correction request"),
    "minor_listed": ("纳入未成年人", "a minor listed"),
    # timeline
    "RiskWarningIssued": ("风险提示", "risk warning"),
    "DebtorListed": ("纳入名单", "listed"),
    "ListingCorrected": ("更正", "corrected"),
    "ObligationPerformed": ("出现退出事由", "ground for exit"),
    "CorrectionRequested": ("纠正申请", "correction requested"),
    "CorrectionRejected": ("驳回纠正申请", "correction rejected"),
    "ListingShielded": ("屏蔽", "shielded"),
    "ListingRevoked": ("撤销", "revoked"),
    "SanctionsApplied": ("实施惩戒", "sanctions applied"),
    "SanctionsLifted": ("解除惩戒", "sanctions lifted"),
    "SanctionsRetained": ("保留惩戒", "sanctions retained"),
    "DeadlineOpened": ("时限开始", "deadline opened"),
    "DeadlineMet": ("按时完成", "deadline met"),
    "DeadlineMissed": ("逾期完成", "deadline missed"),
    "DeadlineBreached": ("超期未办", "deadline breached"),
    # roles
    "debtor": ("被执行人", "debtor"),
    "legal_representative": ("法定代表人", "legal representative"),
    "principal": ("主要负责人", "principal"),
    "actual_controller": ("实际控制人", "actual controller"),
    "responsible_person": ("直接责任人员", "directly responsible person"),
    "court": ("法院", "court"),
    "department": ("部门", "department"),
    "deadline": ("时限", "deadline"),
    "person": ("自然人", "person"),
    "entity": ("单位", "entity"),
    "automatic": ("自动", "automatic"),
    "manual": ("人工", "manual"),
}


def _label(key: str | None) -> Markup:
    if key is None:
        return Markup("")
    zh, en = LABELS.get(key, (key, key))
    return Markup('<span lang="zh">{}</span> <span class="en">{}</span>').format(zh, en)


def _when(value: str | None) -> str:
    """An RFC 3339 time in CST as a person reads it (the page says the times are CST)."""
    if not value:
        return "–"
    return value.replace("T", " ").removesuffix("+08:00")


def _number(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def charts(content: Mapping[str, Any]) -> dict[str, Markup]:
    data = content["charts"]
    out = {}
    for key, title in (
        ("time_to_lift", "部门解除惩戒用时 · time to lift (department lifts)"),
        ("time_to_exit", "法院屏蔽或撤销用时 · time to exit (court exits)"),
    ):
        bins = data[key]["bins"]
        out[key] = bar_chart(
            title,
            [b["label"] for b in bins],
            [Series("obligations closed · 已完成的时限", [b["count"] for b in bins], "s1")],
        )
    months = data["listings_by_month"]
    out["listings_by_month"] = bar_chart(
        "每月纳入与退出 · listings and exits per month",
        [m["month"] for m in months],
        [
            Series("listed · 纳入", [m["listed"] for m in months], "s1"),
            Series("left the list · 屏蔽或撤销", [m["left"] for m in months], "s2"),
        ],
        label_every=max(1, -(-len(months) // 12)),
        show_values=len(months) <= 24,
    )
    return out


def render_html(content: Mapping[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("shixin.audit", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = _label
    env.filters["number"] = _number
    env.filters["when"] = _when
    template = env.get_template("report.html.j2")
    return template.render(r=content, charts=charts(content), row_limit=ROW_LIMIT)
