"""The HTTP API (DESIGN §7): an aiohttp application over the api role's replicas.

Every answer is computed here from memory; only the court intake and a department's
confirmation write to the broker (and wait for it), and the access log is handed to the producer.
Errors are JSON everywhere (`{"error": ...}`), as the OpenAPI document says.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from importlib import resources
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from shixin.domain.catalog import Catalog
from shixin.domain.checks import UnknownAction
from shixin.domain.deadlines import CST, local_date
from shixin.domain.entries import Entry
from shixin.domain.events import COURT_EVENT_TYPES
from shixin.domain.reasons import describe_validation_error
from shixin.domain.sanctions import DepartmentSanction
from shixin.projections.dumps import cst
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.schemas.model_codec import encode_model
from shixin.streams.confirmations import ConfirmationError, build_confirmation
from shixin.streams.publish import parse_lines, topic_and_key
from shixin.web import models
from shixin.web.access_log import AccessLog
from shixin.web.auth import Principal, TokenBook
from shixin.web.metrics import Metrics
from shixin.web.openapi import document
from shixin.web.readmodels import ReadModels
from shixin.web.replicas import ReplicaState, Tailer

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TIME = TypeAdapter(AwareDatetime)
# RFC 3339's date-time, what the OpenAPI document promises: pydantic alone would also take a
# number of seconds since 1970 ("350583")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
PRINCIPAL = web.RequestKey("principal", Principal)  # absent: no token
VERDICTS = ("open", "met", "missed", "breached")
SANCTION_STATES = ("applied", "lifted", "retained", "pending_apply", "pending_lift")
MAX_BODY = 4 * 1024 * 1024
STATIC = resources.files("shixin.web") / "static"


def _error(status: int, message: str, **headers: str) -> web.HTTPException:
    """An HTTP error with a JSON body."""
    return _ERRORS[status](
        text=json.dumps({"error": message}, ensure_ascii=False),
        content_type="application/json",
        headers=headers or None,
    )


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    413: web.HTTPRequestEntityTooLarge,
    422: web.HTTPUnprocessableEntity,
    500: web.HTTPInternalServerError,
    503: web.HTTPServiceUnavailable,
}


_KEPT_HEADERS = ("allow", "www-authenticate")
_NO_NAMES: frozenset[str] = frozenset()


def _json(model: Any, status: int = 200) -> web.Response:
    body = model.model_dump_json() if hasattr(model, "model_dump_json") else json.dumps(model)
    return web.Response(body=body.encode(), status=status, content_type="application/json")


class Api:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        state: ReplicaState,
        producer: AIOKafkaProducer,
        tailer: Tailer | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.state = state
        self.tailer = tailer
        self.producer = producer
        self.read = ReadModels(state, catalog)
        self.tokens = TokenBook(settings.api_tokens)
        self.metrics = Metrics(self.read, tailer)
        self.access = AccessLog(producer, settings.topic_access_log)
        doc = document(catalog)
        self._document = json.dumps(doc).encode()
        # (method, route) -> the query parameters the document gives it; any other is refused
        self._query_names = {
            (method.upper(), path): frozenset(
                p["name"] for p in op.get("parameters", ()) if p["in"] == "query"
            )
            for path, ops in doc["paths"].items()
            for method, op in ops.items()
        }
        self._actions = set(catalog.actions)
        self._today_is, self._day_ends = date.min, 0.0  # `_today()`

    # --- the application ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._serve], client_max_size=MAX_BODY)
        get, post = "GET", "POST"
        for method, path, handler in [
            (get, "/", self.dashboard_page),
            (get, "/static/{name}", self.static),
            (get, "/healthz", self.healthz),
            (get, "/readyz", self.readyz),
            (get, "/metrics", self.prometheus),
            (get, "/v1/openapi.json", self.openapi),
            (get, "/v1/public/entries", self.public_entries),
            (get, "/v1/subjects/{subject_id}", self.subject),
            (get, "/v1/entries/{entry_id}", self.entry),
            (get, "/v1/check", self.check),
            (get, "/v1/obligations", self.obligations),
            (get, "/v1/breaches", self.breaches),
            (get, "/v1/sla", self.sla),
            (post, "/v1/court/events", self.intake),
            (get, "/v1/departments/{department}/sanctions", self.department_sanctions),
            (get, "/v1/departments/{department}/sanctions/{subject_id}", self.department_sanction),
            (post, "/v1/departments/{department}/confirmations", self.confirm),
            (get, "/v1/access-log", self.access_log),
            (get, "/v1/dashboard", self.dashboard),
        ]:
            app.router.add_route(method, path, handler)
        return app

    @web.middleware
    async def _serve(self, request: web.Request, handler: Handler) -> Any:
        """Every request: the caller's token, the query parameters the route knows, errors as
        JSON, the request counted and timed. One middleware, not one per concern: each layer
        is a few coroutine calls more on every check."""
        started = time.perf_counter()
        resource = request.match_info.route.resource
        response: web.StreamResponse
        try:
            self._admit(request, resource)
            response = await handler(request)
        except web.HTTPException as exc:
            text = exc.text if exc.content_type == "application/json" else None
            # aiohttp's own errors (no route, wrong method, body too large) are JSON too
            headers = {k: v for k, v in exc.headers.items() if k.lower() in _KEPT_HEADERS}
            response = web.Response(
                status=exc.status,
                text=text or json.dumps({"error": exc.reason}),
                content_type="application/json",
                headers=headers,
            )
        except Exception:
            log.exception("api.failed", path=request.path)
            response = web.Response(
                status=500,
                text=json.dumps({"error": "internal error (logged)"}),
                content_type="application/json",
            )
        name = resource.canonical if resource is not None else "unmatched"
        self.metrics.count_request(name, response.status, time.perf_counter() - started)
        return response

    def _admit(self, request: web.Request, resource: Any) -> None:
        """The bearer token's holder (if any) on the request; an unknown token or query
        parameter refused."""
        header = request.headers.get("Authorization")
        principal = self.tokens.principal(header)
        if header is not None and principal is None and request.path.startswith("/v1/"):
            raise _error(401, "unknown bearer token", **{"WWW-Authenticate": "Bearer"})
        if principal is not None:
            request[PRINCIPAL] = principal
        if resource is not None:
            known = self._query_names.get((request.method, resource.canonical), _NO_NAMES)
            if not known.issuperset(request.query):
                unknown = sorted(set(request.query) - known)
                raise _error(400, f"unknown query parameter {unknown[0][:40]!r}")

    # --- access --------------------------------------------------------------------------------

    @staticmethod
    def _require(request: web.Request, *roles: str) -> Principal:
        """The caller, if its role is among `roles` ("department": any department)."""
        principal: Principal | None = request.get(PRINCIPAL)
        if principal is None:
            raise _error(401, "a bearer token is required", **{"WWW-Authenticate": "Bearer"})
        if principal.role in roles or ("department" in roles and principal.department):
            return principal
        raise _error(403, f"the {principal.role} role may not do this")

    @staticmethod
    def _own_department(principal: Principal, department: str) -> None:
        if principal.department is not None and principal.department != department:
            raise _error(403, f"department {principal.department} may not act for {department}")

    # --- parameters ----------------------------------------------------------------------------

    @staticmethod
    def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
        text = request.query.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise _error(400, f"{name} must be an integer, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise _error(400, f"{name} must be between {low} and {high}, got {value}")
        return value

    @staticmethod
    def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
        text = request.query.get(name)
        if text is not None and text not in choices:
            raise _error(400, f"{name} must be one of {', '.join(choices)}, got {text[:40]!r}")
        return text

    @staticmethod
    def _now(request: web.Request) -> datetime:
        text = request.query.get("now")
        if text is None:
            return datetime.now().astimezone()
        try:
            if _RFC3339.fullmatch(text) is None:
                raise ValueError(text)
            return _TIME.validate_python(text)
        except ValueError:  # (pydantic's ValidationError is one)
            raise _error(
                400, f"now must be an RFC 3339 time with an offset, got {text[:40]!r}"
            ) from None

    def _today(self) -> date:
        """Today in China Standard Time, worked out again only once the day has ended."""
        now = time.time()
        if now >= self._day_ends:
            today = local_date(datetime.fromtimestamp(now, CST))
            self._today_is = today
            self._day_ends = datetime.combine(today + timedelta(days=1), dt_time(), CST).timestamp()
        return self._today_is

    # --- open ----------------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return _json(models.Health(status="ok"))

    async def readyz(self, request: web.Request) -> web.Response:
        ready = self.tailer is None or self.tailer.ready.is_set()
        lag = self.tailer.lag() if self.tailer else {}
        return _json(models.Ready(ready=ready, lag=lag), 200 if ready else 503)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=self._document, content_type="application/json")

    async def dashboard_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(STATIC / "dashboard.html").read_bytes(), content_type="text/html", charset="utf-8"
        )

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
        if name not in types:
            raise _error(404, f"no static file {name!r}")
        return web.Response(
            body=(STATIC / name).read_bytes(), content_type=types[name], charset="utf-8"
        )

    async def public_entries(self, request: web.Request) -> web.Response:
        page = self.state.public.search(
            self._today(),
            name=request.query.get("name"),
            id_number=request.query.get("id_number"),
            page=self._int(request, "page", 1, 1, 100_000),
            page_size=self._int(request, "page_size", 20, 1, 100),
        )
        return _json(page)

    # --- personal data: every read is logged ---------------------------------------------------

    async def subject(self, request: web.Request) -> web.Response:
        principal = self._require(request, "auditor")
        subject_id = request.match_info["subject_id"]
        view = self.read.subject(subject_id)
        if view["subject"] is None and not view["sanctions"]:
            raise _error(404, f"subject {subject_id} is not known")
        self.access.record(principal, request.method, request.path, [subject_id])
        return _json(models.SubjectView.model_validate(view))

    async def entry(self, request: web.Request) -> web.Response:
        principal = self._require(request, "auditor")
        entry_id = request.match_info["entry_id"]
        raw = self.state.entries.get(entry_id)
        if raw is None:
            raise _error(404, f"entry {entry_id} is not known")
        entry = Entry.model_validate(raw)
        self.access.record(principal, request.method, request.path, list(entry.named_ever))
        return _json(entry)

    async def check(self, request: web.Request) -> web.Response:
        principal = self._require(request, "auditor", "department")
        subject_id = request.query.get("subject_id", "")
        action = request.query.get("action", "")
        if not subject_id:
            raise _error(400, "subject_id is required")
        if action not in self._actions:
            raise _error(400, f"no measure of the catalog blocks {action[:60]!r}")
        if principal.department and principal.department not in self.read.blocking_departments(
            action
        ):
            raise _error(403, f"no measure of department {principal.department} blocks {action}")
        try:
            answer = self.read.check_answer(subject_id, action, self._today())
        except UnknownAction as exc:  # pragma: no cover - the catalog's actions are checked above
            raise _error(400, str(exc)) from exc
        self.metrics.count_check(action, answer.result.allowed)
        self.access.record(principal, request.method, request.path, [subject_id])
        return web.Response(body=answer.body, content_type="application/json")

    async def obligations(self, request: web.Request, status: str | None = None) -> web.Response:
        principal = self._require(request, "auditor", "operator", "department")
        department = request.query.get("department")
        if principal.department:
            self._own_department(principal, department or principal.department)
            department = principal.department
        page = self._int(request, "page", 1, 1, 100_000)
        size = self._int(request, "page_size", 100, 1, 1000)
        total, rows = self.read.obligation_page(
            self._now(request),
            status or self._choice(request, "status", VERDICTS),
            department,
            request.query.get("court"),
            offset=(page - 1) * size,
            limit=size,
        )
        subjects = [r["subject_id"] for r in rows if r["subject_id"]]
        if subjects:
            self.access.record(principal, request.method, request.path, subjects)
        return _json(
            models.ObligationPage(
                total=total,
                page=page,
                page_size=size,
                items=[models.ObligationRow.model_validate(r) for r in rows],
            )
        )

    async def breaches(self, request: web.Request) -> web.Response:
        return await self.obligations(request, status="breached")

    async def sla(self, request: web.Request) -> web.Response:
        self._require(request, "auditor", "operator")
        data = self.read.sla_summary(self._now(request))
        # as the CLI gives it: no lift figures where nothing was lifted
        return _json(models.SlaSummary.model_validate(data).model_dump(exclude_unset=True))

    async def department_sanctions(self, request: web.Request) -> web.Response:
        principal = self._require(request, "auditor", "department")
        department = self._department(request, principal)
        state = self._choice(request, "state", SANCTION_STATES)
        page = self._int(request, "page", 1, 1, 100_000)
        size = self._int(request, "page_size", 50, 1, 500)
        table = self.state.sanctions[department]
        keys = table.ordered() if state is None else table.labelled(state)  # in key order
        shown = list(keys[(page - 1) * size : page * size])
        if shown:
            self.access.record(principal, request.method, request.path, shown)
        return _json(
            models.SanctionPage(
                total=len(keys),
                page=page,
                page_size=size,
                items=[DepartmentSanction.model_validate(table[k]) for k in shown],
            )
        )

    async def department_sanction(self, request: web.Request) -> web.Response:
        principal = self._require(request, "auditor", "department")
        department = self._department(request, principal)
        subject_id = request.match_info["subject_id"]
        row = self.state.sanctions[department].get(subject_id)
        if row is None:
            raise _error(404, f"department {department} holds nothing on {subject_id}")
        self.access.record(principal, request.method, request.path, [subject_id])
        return _json(DepartmentSanction.model_validate(row))

    def _department(self, request: web.Request, principal: Principal) -> str:
        department = request.match_info["department"]
        self._own_department(principal, department)
        if department not in self.state.sanctions:
            raise _error(404, f"unknown department {department!r}")
        return department

    async def access_log(self, request: web.Request) -> web.Response:
        self._require(request, "auditor")
        subject = request.query.get("subject")
        who = request.query.get("who")
        limit = self._int(request, "limit", 100, 1, 1000)
        found = self.state.access_log.newest(subject, who, limit)
        return _json(models.AccessLogPage(records=found, kept=len(self.state.access_log)))

    # --- writes --------------------------------------------------------------------------------

    async def intake(self, request: web.Request) -> web.Response:
        """Court events, validated exactly as `shixin publish` does; all or nothing."""
        self._require(request, "court")
        body = await request.read()
        if request.content_type == "application/x-ndjson":
            lines: list[str | bytes] = list(body.splitlines())
        else:
            try:
                data = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _error(422, f"the body is not JSON: {exc}") from None
            if not isinstance(data, list):
                raise _error(422, "the body must be a JSON array of court events")
            lines = [json.dumps(item, ensure_ascii=False) for item in data]
        events, errors = parse_lines(lines)
        problems = [models.Problem(line=e.line, reason=e.reason) for e in errors]
        # the line of each valid event: parse_lines skips blank lines and keeps the order
        bad = {e.line for e in errors}
        numbers = [n for n, line in enumerate(lines, 1) if line.strip() and n not in bad]
        for number, event in zip(numbers, events, strict=True):
            if not isinstance(event, COURT_EVENT_TYPES):
                problems.append(
                    models.Problem(
                        line=number,
                        reason=f"{event.type} is not a court event (a department confirms at "
                        "/v1/departments/{department}/confirmations)",
                    )
                )
        if not events and not problems:
            raise _error(422, "no events in the body")
        if problems:
            return _json(
                models.Problems(
                    error="invalid events: nothing was published",
                    problems=sorted(problems, key=lambda p: p.line),
                ),
                422,
            )
        await self._publish(events)
        log.info("api.intake", events=len(events))
        return _json(models.Accepted(accepted=[str(e.event_id) for e in events]), 202)

    async def confirm(self, request: web.Request) -> web.Response:
        """A person confirms a manual department's task (`shixin department confirm`)."""
        principal = self._require(request, "department")
        department = request.match_info["department"]
        self._own_department(principal, department)
        try:
            raw = json.loads(await request.read())
            body = models.Confirmation.model_validate(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _error(422, f"the body is not JSON: {exc}") from None
        except ValidationError as exc:
            raise _error(422, describe_validation_error(exc, raw)) from None
        try:
            event = build_confirmation(
                self.catalog,
                department,
                body.subject_id,
                body.action,
                body.measures,
                body.at.isoformat() if body.at else None,
                body.legal_basis,
                body.until,
            )
        except ConfirmationError as exc:
            raise _error(422, str(exc)) from None
        await self._publish([event])
        return _json(models.Accepted(accepted=[str(event.event_id)]), 202)

    async def _publish(self, events: list[Any]) -> None:
        futures = []
        for event in events:
            topic, key = topic_and_key(event, self.settings)
            futures.append(await self.producer.send(topic, key=key, value=encode_model(event)))
        for future in futures:
            await future  # accepted means on the broker

    # --- operators -----------------------------------------------------------------------------

    async def prometheus(self, request: web.Request) -> web.Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        self._require(request, "auditor", "operator")
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def dashboard(self, request: web.Request) -> web.Response:
        self._require(request, "auditor", "operator")
        now = datetime.now().astimezone()
        counts = self.read.deadline_counts(now)
        deadlines = {
            v: sum(n for (_, verdict), n in counts.items() if verdict == v) for v in VERDICTS
        }
        return _json(
            models.Dashboard(
                now=cst(now) or "",
                ready=self.tailer is None or self.tailer.ready.is_set(),
                listed_entries=self.read.listed_entries(),
                public_entries=len(self.state.public),
                sanctionable_subjects=self.read.sanctionable_subjects(),
                sanctioned_subjects=self.read.sanctioned_subjects(),
                sanctions_by_department=self.read.sanctions_by_department(),
                deadlines=deadlines,
                breached=[
                    models.ObligationRow.model_validate(
                        {**r, "subject_id": None}  # the dashboard shows no personal data
                    )
                    for r in self.read.breached_rows(now, 20)
                ],
                recent_events=[
                    models.RecentEvent.model_validate(r) for r in self.read.recent_events()
                ],
                recent_dead_letters=[
                    models.RecentDeadLetter.model_validate(r)
                    for r in self.read.recent_dead_letters()
                ],
                lift_times=models.HoursDistribution.model_validate(self.read.lift_times()),
            )
        )
