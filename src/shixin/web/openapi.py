"""The OpenAPI 3.1 document of the HTTP API, its schemas generated from the pydantic models
the handlers answer with (`shixin.web.models` and the domain models). A test checks that it
lists exactly the server's routes, and schemathesis checks the server against it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shixin.domain.catalog import Catalog
from shixin.domain.checks import CheckResult
from shixin.domain.entries import Entry
from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.domain.sanctions import DepartmentSanction
from shixin.web import models
from shixin.web.public import PublicPage

REF = "#/components/schemas/{model}"
_RESPONSES: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
    (models.Error, "serialization"),
    (models.Problems, "serialization"),
    (models.Accepted, "serialization"),
    (models.Confirmation, "validation"),
    (models.SubjectView, "serialization"),
    (Entry, "serialization"),
    (CheckResult, "serialization"),
    (models.ObligationPage, "serialization"),
    (models.SlaSummary, "serialization"),
    (models.SanctionPage, "serialization"),
    (DepartmentSanction, "serialization"),
    (PublicPage, "serialization"),
    (models.AccessLogPage, "serialization"),
    (models.Dashboard, "serialization"),
    (models.Health, "serialization"),
    (models.Ready, "serialization"),
]
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _param(
    name: str, where: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return _param(name, "path", {"type": "string", "minLength": 1}, description)


def _page(default: int, most: int) -> list[dict[str, Any]]:
    return [
        _param("page", "query", {"type": "integer", "minimum": 1, "maximum": 100000}, "1-based"),
        _param(
            "page_size",
            "query",
            {"type": "integer", "minimum": 1, "maximum": most, "default": default},
            "entries per page",
        ),
    ]


NOW = _param(
    "now", "query", {"type": "string", "format": "date-time"}, "judge at this time (default: now)"
)


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    secured: bool = True,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    tag: str = "read",
) -> dict[str, Any]:
    responses = dict(ok)
    if secured:
        responses["401"] = _error("no bearer token, or an unknown one")
        responses["403"] = _error("the token's role may not do this")
    for status, text in (errors or {}).items():
        responses[status] = _error(text)
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    op["security"] = BEARER if secured else []
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    return op


def document(catalog: Catalog) -> dict[str, Any]:
    _, top = models_json_schema(_RESPONSES, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    court_event = COURT_EVENT_ADAPTER.json_schema(ref_template=REF)
    for name, schema in court_event.pop("$defs", {}).items():
        schemas.setdefault(name, schema)  # the responses' (serialization) form wins
    schemas["CourtEvent"] = court_event
    bad_query = {"400": "a query parameter is not valid"}
    departments = {"404": "unknown department, or nothing held on the subject"}
    paths: dict[str, Any] = {
        "/healthz": {
            "get": _op(
                "The process is up", {"200": _json(_ref("Health"), "up")}, secured=False, tag="ops"
            )
        },
        "/readyz": {
            "get": _op(
                "Ready once the replicas have read what the tables held at start",
                {
                    "200": _json(_ref("Ready"), "ready"),
                    "503": _json(_ref("Ready"), "still catching up"),
                },
                secured=False,
                tag="ops",
            )
        },
        "/metrics": {
            "get": {
                **_op(
                    "Prometheus metrics (operator, auditor)",
                    {
                        "200": {
                            "description": "the Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                    tag="ops",
                ),
            }
        },
        "/": {
            "get": _op(
                "The operator dashboard (its data needs an operator or auditor token)",
                {
                    "200": {
                        "description": "the page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
                secured=False,
                tag="ops",
            )
        },
        "/static/{name}": {
            "get": _op(
                "The dashboard's script and style",
                {
                    "200": {
                        "description": "the file",
                        "content": {
                            "text/javascript": {"schema": {"type": "string"}},
                            "text/css": {"schema": {"type": "string"}},
                        },
                    }
                },
                secured=False,
                params=[_path("name", "dashboard.js or dashboard.css")],
                errors={"404": "no such file"},
                tag="ops",
            )
        },
        "/v1/openapi.json": {
            "get": _op(
                "This document",
                {"200": _json({"type": "object"}, "the OpenAPI document")},
                secured=False,
                tag="ops",
            )
        },
        "/v1/public/entries": {
            "get": {
                **_op(
                    "The public list (供公众免费查询): listed public entries, ID numbers masked",
                    {"200": _json(_ref("PublicPage"), "one page, newest listing first")},
                    secured=False,
                    params=[
                        _param("name", "query", {"type": "string"}, "the exact name"),
                        _param(
                            "id_number",
                            "query",
                            {"type": "string"},
                            "the full resident ID number or unified social credit code",
                        ),
                        *_page(20, 100),
                    ],
                    errors={**bad_query, "401": "an unknown bearer token"},
                    tag="public",
                ),
                "security": [{}, {"bearer": []}],
            }
        },
        "/v1/subjects/{subject_id}": {
            "get": _op(
                "A subject: the entries naming it and every department's sanctions (auditor)",
                {"200": _json(_ref("SubjectView"), "as `shixin query subject --json`")},
                params=[_path("subject_id", "resident ID number or credit code")],
                errors={"404": "the subject is not known"},
            )
        },
        "/v1/entries/{entry_id}": {
            "get": _op(
                "A list entry, whole (auditor)",
                {"200": _json(_ref("Entry"), "the entry")},
                params=[_path("entry_id", "the court's entry id")],
                errors={"404": "the entry is not known"},
            )
        },
        "/v1/check": {
            "get": _op(
                "Interception check (自动拦截): may this subject do this now? (auditor, or a "
                "department whose measures block the action)",
                {"200": _json(_ref("CheckResult"), "as `shixin check --json`")},
                params=[
                    _param("subject_id", "query", {"type": "string", "minLength": 1}, "", True),
                    _param("action", "query", {"enum": list(catalog.actions)}, "", True),
                ],
                errors=bad_query,
            )
        },
        "/v1/obligations": {
            "get": _op(
                "Obligations (deadlines) judged now (auditor, operator; a department: its own)",
                {
                    "200": _json(
                        _ref("ObligationPage"),
                        "a page of `shixin query obligations --json`'s rows, in its order",
                    )
                },
                params=[
                    _param("status", "query", {"enum": ["open", "met", "missed", "breached"]}, ""),
                    _param("department", "query", {"type": "string"}, ""),
                    _param("court", "query", {"type": "string"}, "court code"),
                    NOW,
                    *_page(100, 1000),
                ],
                errors=bad_query,
            )
        },
        "/v1/breaches": {
            "get": _op(
                "Breached obligations (auditor, operator; a department: its own)",
                {"200": _json(_ref("ObligationPage"), "breached now, the longest due first")},
                params=[
                    _param("department", "query", {"type": "string"}, ""),
                    _param("court", "query", {"type": "string"}, "court code"),
                    NOW,
                    *_page(100, 1000),
                ],
                errors=bad_query,
            )
        },
        "/v1/sla": {
            "get": _op(
                "SLA summary per department and court (auditor, operator)",
                {"200": _json(_ref("SlaSummary"), "as `shixin query sla --json`")},
                params=[NOW],
                errors=bad_query,
            )
        },
        "/v1/court/events": {"post": _intake()},
        "/v1/departments/{department}/sanctions": {
            "get": _op(
                "A department's sanctions (the department itself, auditor)",
                {"200": _json(_ref("SanctionPage"), "by subject id")},
                params=[
                    _path("department", "department id"),
                    _param("state", "query", {"enum": list(_states())}, ""),
                    *_page(50, 500),
                ],
                errors={**bad_query, "404": "unknown department"},
            )
        },
        "/v1/departments/{department}/sanctions/{subject_id}": {
            "get": _op(
                "A department's sanctions against one subject (the department itself, auditor)",
                {"200": _json(_ref("DepartmentSanction"), "the department's row")},
                params=[
                    _path("department", "department id"),
                    _path("subject_id", "resident ID number or credit code"),
                ],
                errors=departments,
            )
        },
        "/v1/departments/{department}/confirmations": {
            "post": _op(
                "A person confirms a manual department's task (the department itself)",
                {"202": _json(_ref("Accepted"), "the confirmation event published")},
                params=[_path("department", "department id")],
                body={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Confirmation")}},
                },
                errors={"422": "the confirmation is not valid", "413": "the body is too large"},
                tag="write",
            )
        },
        "/v1/access-log": {
            "get": _op(
                "Who read whose personal data, newest first (auditor)",
                {"200": _json(_ref("AccessLogPage"), "records kept by this worker")},
                params=[
                    _param("subject", "query", {"type": "string"}, "a subject id"),
                    _param("who", "query", {"type": "string"}, "a token's name"),
                    _param(
                        "limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, ""
                    ),
                ],
                errors=bad_query,
            )
        },
        "/v1/dashboard": {
            "get": _op(
                "What the operator dashboard shows, with no personal data (operator, auditor)",
                {"200": _json(_ref("Dashboard"), "counts, recent events, time to lift")},
                tag="ops",
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shixin",
            "version": "1",
            "description": "The dishonest judgment debtor list (失信被执行人名单): queries, "
            "interception checks, the public list, deadlines and court intake.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _intake() -> dict[str, Any]:
    op = _op(
        "Court event intake (court): validated as `shixin publish`, all or nothing",
        {"202": _json(_ref("Accepted"), "every event published to court.events")},
        body={
            "required": True,
            "description": "court events (schema CourtEvent), a JSON array or JSON Lines",
            "content": {
                "application/json": {
                    "schema": {"type": "array", "minItems": 1, "items": {"type": "object"}}
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        errors={"413": "the body is larger than 4 MiB"},
        tag="write",
    )
    op["responses"]["422"] = _json(
        {"oneOf": [_ref("Problems"), _ref("Error")]},
        "invalid: a reason for each bad line (naming each bad field); nothing was published",
    )
    return op


def _states() -> tuple[str, ...]:
    return ("applied", "lifted", "retained", "pending_apply", "pending_lift")
