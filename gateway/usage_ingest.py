"""POST /usage/events: bulk usage ingestion for the product's backend (SERVICE keys).

Body `{"events": [{"id", "account", "meter", "quantity", "timestamp"}]}` (`account` is
the Account's global ID; up to 1,000 events, any mix of accounts) → `200 {"results":
[{"id", "status", "reason"}]}`, one per event in the order sent. The same rules and
answers as the `reportUsage` mutation (services/usage/ingest.py), without GraphQL's
per-event overhead. A refused request (401, 403, 400, 413, 429) records nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.ratelimit import authfail_bucket
from gateway.security import SecurityConfig
from gateway.settings import Settings
from models import ApiKeyRole
from resolvers.ids import from_global_id
from services.errors import BillingError, Unauthenticated
from services.usage.ingest import MAX_BATCH, EventIn, report_usage

#: 1,000 events of ~300 bytes each, with room to spare.
MAX_BODY = 2_000_000


def _event(raw: Any) -> EventIn:
    if not isinstance(raw, dict):
        return EventIn(account_id=None, id="", meter=None, quantity=None, problem="not an object")
    account_id: int | None = None
    account = raw.get("account")
    if isinstance(account, str):
        try:
            type_name, pk = from_global_id(account)
            account_id = pk if type_name == "Account" else None
        except BillingError:
            account_id = None
    timestamp, problem = None, None
    stamp = raw.get("timestamp")
    if stamp is not None:
        try:
            if not isinstance(stamp, str):
                raise ValueError(stamp)
            timestamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            problem = "timestamp is not an ISO 8601 date-time"
    return EventIn(
        account_id=account_id,
        id=raw.get("id"),
        meter=raw.get("meter"),
        quantity=raw.get("quantity"),
        timestamp=timestamp,
        problem=problem,
    )


def _refuse(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _too_many(retry_after: int) -> Response:
    return _refuse(429, "Too many requests: slow down.", {"Retry-After": str(retry_after)})


def usage_routes(settings: Settings) -> list[Route]:
    security = SecurityConfig.from_settings(settings)

    async def usage_events(request: Request) -> Response:
        limiter = request.app.state.limiter
        services = request.app.state.services
        header = request.headers.get("authorization")
        try:
            principal = await security.authenticator(services.clock).authenticate(header)
        except Unauthenticated as exc:
            if header and request.client is not None:
                bucket = authfail_bucket(request.client.host)
                failed = await limiter.hit(bucket, security.rate_limit_failed_auth_per_address, 1)
                if not failed.allowed:
                    return _too_many(failed.retry_after)
            return _refuse(401, exc.message, {"WWW-Authenticate": "Bearer"})
        if principal.role is not ApiKeyRole.SERVICE:
            return _refuse(403, "Only a service key may report usage.")
        verdict = await limiter.hit(principal.caller, security.rate_limit_per_key, 1)
        if not verdict.allowed:
            return _too_many(verdict.retry_after)
        body = await request.body()
        if len(body) > MAX_BODY:
            return _refuse(413, f"The body is over {MAX_BODY} bytes.")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
            return _refuse(400, 'The body is not JSON: send {"events": [...]}.')
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            return _refuse(400, 'Send {"events": [...]}.')
        if len(events) > MAX_BATCH:
            return _refuse(400, f"At most {MAX_BATCH} events per request; send the rest apart.")
        results = await report_usage(services, principal, [_event(e) for e in events])
        return JSONResponse(
            {"results": [{"id": r.id, "status": r.status, "reason": r.reason} for r in results]}
        )

    return [Route("/usage/events", usage_events, methods=["POST"])]
