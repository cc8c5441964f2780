"""POST/GET /graphql, following the GraphQL-over-HTTP specification.

- Media types: `application/graphql-response+json` when the client accepts it, else
  `application/json` (also for `*/*` and no Accept header); 406 otherwise.
- Requests: POST with a JSON body (`application/json` or
  `application/graphql-response+json`; anything else, forms and text/plain included,
  is 415, so no cross-site "simple request" can reach a mutation), or GET (and HEAD,
  answered as GET without a body) with the parameters in the query string, for queries
  only (a mutation over GET or HEAD is 405).
- Status codes: malformed requests (JSON, parameters, body size) are 400/413; a
  request error (parse, validation, variables) is 400 with graphql-response+json and
  200 with application/json, and has no `data` entry; a refusal by the query limits
  (schema/limits.py) and an operationName that picks no operation (missing with
  several operations in the document, or naming none of them) are 400 for both; an
  executed operation is 200. Request errors name what is wrong, never the value sent
  (schema/request_errors.py).
- Before executing: a rate limit per client address for anonymous requests,
  authentication (API key or OIDC token; a wrong credential counts in its own bucket
  per address, apart from valid callers), a rate limit per caller (429 with
  Retry-After), the body size cap and the request policy (limits, introspection and
  suggestions on only outside production or for admin callers).
- A batch is refused as a whole (400, QUERY_TOO_COSTLY) when its operations together
  cost more than the budget, before any of them runs.
- One access log line per request with the request id, caller and operation name,
  never the variables; an unexpected failure of the endpoint itself is logged with the
  request id and a traceback without exception messages, and answered 500.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.ide import graphiql_page
from gateway.logs import configure_structlog, strip_access_query_strings
from gateway.persisted import PersistedQueries, PersistedQueryError, matches, persisted_hash
from gateway.ratelimit import RateLimiter, authfail_bucket
from gateway.security import SecurityConfig
from gateway.subscriptions import EventTransports, wants_event_stream
from gateway.trusted import DOCUMENT_NOT_TRUSTED, TrustedDocuments
from models import ApiKeyRole
from resolvers.context import Context
from schema.extensions import redacted_traceback, safe_operation_name
from schema.limits import LIMIT_CODES, RequestPolicy, batch_cost, operation_choice_error
from schema.request_errors import OPERATION_RESOLUTION_FAILURE
from services.auth import Principal
from services.errors import Unauthenticated

log = logging.getLogger("gateway.graphql")
access_log = structlog.get_logger("gateway.access")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


#: Refusals answered 400 whatever the media type (the request asked for something that
#: is not run at all, rather than a document that failed validation).
_ALWAYS_400 = LIMIT_CODES | {OPERATION_RESOLUTION_FAILURE, DOCUMENT_NOT_TRUSTED}


_SUBSCRIBE_HOW = (
    "Subscriptions run over GraphQL over SSE (POST with Accept: text/event-stream) "
    "or a graphql-transport-ws WebSocket on /graphql."
)


_STREAM_METHODS = {"Allow": "GET, POST"}


class HTTPRefusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class _Call:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    #: An APQ request's sha256Hash (gateway/persisted.py), and its refusal if any.
    query_hash: str | None = None
    error: GraphQLError | None = None


class GraphQLEndpoint:
    """The ASGI app behind the /graphql route."""

    def __init__(
        self,
        schema: BaseSchema,
        security: SecurityConfig,
        limiter: RateLimiter,
        *,
        graphiql: bool,
        trusted: TrustedDocuments | None = None,
    ) -> None:
        self.schema = schema
        self.security = security
        self.limiter = limiter
        self.graphiql = graphiql
        self.streams = EventTransports(self)
        self.persisted = PersistedQueries(
            schema._schema,  # type: ignore[attr-defined]
            max_tokens=security.limits.max_tokens,
        )
        self.trusted = trusted or TrustedDocuments()
        self.persisted.pin(dict(self.trusted.documents))
        configure_structlog()
        strip_access_query_strings()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        request_id = _request_id(request)
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        state: dict[str, Any] = {"caller": "anonymous", "operation": None}
        try:
            response = await self._handle(request, request_id, state)
        except HTTPRefusal as refusal:
            response = _error_response(refusal.status, refusal.message, refusal.headers)
        except Exception as exc:  # logged without its message, answered 500
            log.error(
                "unexpected error in the GraphQL endpoint",
                extra={
                    "request_id": request_id,
                    "error_class": type(exc).__name__,
                    "traceback": redacted_traceback(exc),
                },
            )
            response = _error_response(500, "Unexpected error.", {}, request_id)
        response.headers["X-Request-Id"] = request_id
        access_log.info(
            "graphql request",
            method=request.method,
            status=response.status_code,
            caller=state["caller"],
            operation=safe_operation_name(state["operation"]),
            client=_address(request),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        structlog.contextvars.unbind_contextvars("request_id")
        await response(scope, receive, send)

    async def _handle(self, request: Request, request_id: str, state: dict[str, Any]) -> Response:
        if wants_event_stream(request):  # GraphQL over SSE (gateway/subscriptions.py)
            if request.method == "HEAD":  # a stream whose body nobody would read
                raise HTTPRefusal(405, "Event streams open with GET or POST.", _STREAM_METHODS)
            request.state.request_id = request_id
            body = None
            if request.method == "POST":
                body = await _read_body(request, self.security.max_body_bytes)
            return await self.streams.sse(request, body)
        if _safe(request) and self.graphiql and _wants_html(request):
            return HTMLResponse(await graphiql_page(request))
        media_type = _negotiate(request.headers.get("accept"))
        if media_type is None:
            raise HTTPRefusal(406, f"Accept {GRAPHQL_RESPONSE} or {JSON}.")
        if not request.headers.get("authorization"):
            # Anonymous traffic shares its address's budget. A credential is limited by what
            # it turns out to be: its own budget when valid, `authfail:<ip>` when wrong
            # (gateway/ratelimit.py), so one client's failures never block valid keys.
            await self._limit(f"addr:{_address(request)}", self.security.rate_limit_per_address, 1)
        request.state.request_id = request_id
        context = await self.get_context(request)  # a wrong credential may answer 429 here
        calls, batched = await self._read_calls(request)
        calls = [self._resolve_persisted(call, context.principal) for call in calls]
        if context.principal is not None:
            state["caller"] = context.principal.caller
            per_key = self.security.rate_limit_per_key
            await self._limit(context.principal.caller, per_key, len(calls))
        allowed = (
            (OperationType.QUERY,)
            if _safe(request)
            else (OperationType.QUERY, OperationType.MUTATION)
        )
        if batched:
            too_costly = batch_cost(
                self.schema._schema,  # type: ignore[attr-defined]
                [(c.query, c.operation_name, c.variables) for c in calls if c.error is None],
                context.request_policy,
            )
            if too_costly is not None:
                return _json_response(400, {"errors": [too_costly.formatted]}, media_type)
        if _safe(request) and not batched:
            return await self._conditional_get(request, calls[0], context, allowed, media_type)
        results = []
        for call in calls:
            state["operation"] = call.operation_name
            results.append(await self._execute(call, context, allowed, media_type))
        if batched:
            return _json_response(200, [body for _, body in results], media_type)
        status, body = results[0]
        return _json_response(status, body, media_type)

    def _resolve_persisted(self, call: _Call, principal: Principal | None) -> _Call:
        """The document an APQ request names; for a caller bound to trusted documents
        (gateway/trusted.py), only one from the manifest, and nothing is registered."""
        try:
            digest = persisted_hash(call.extensions)
            if self.trusted.required(principal):
                call.query = self.trusted.only_trusted(call.query or None, digest)
                call.query_hash = digest
            elif digest is not None:
                call.query = self.persisted.resolve(call.query or None, digest)
                call.query_hash = digest
        except PersistedQueryError as refusal:
            call.error = refusal.error
        return call

    async def _conditional_get(
        self,
        request: Request,
        call: _Call,
        context: Context,
        allowed: tuple[OperationType, ...],
        media_type: str,
    ) -> Response:
        """A GET; for a persisted query over covered fields, an ETag and 304 when it still
        matches, decided before executing anything (gateway/persisted.py)."""
        etag = None
        principal = context.principal
        if (
            principal is not None
            and call.query_hash is not None
            and call.error is None
            and self.persisted.cacheable(call.query_hash, call.query, call.operation_name)
        ):
            etag = await self.persisted.etag(
                principal,
                call.query_hash,
                call.operation_name,
                call.variables,
                media_type,
                context.services.clock.now(),
                _provider_settings(context),
            )
        headers = {"Cache-Control": "private, no-cache", "Vary": "Authorization, Accept"}
        if etag is not None and matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={**headers, "ETag": etag})
        status, body = await self._execute(call, context, allowed, media_type)
        response = _json_response(status, body, media_type)
        if status == 200 and etag is not None and "errors" not in body:
            response.headers.update({**headers, "ETag": etag})
        return response

    async def _limit(self, bucket: str, limit: int, cost: int) -> None:
        verdict = await self.limiter.hit(bucket, limit, cost)
        if not verdict.allowed:
            raise HTTPRefusal(
                429, "Too many requests: slow down.", {"Retry-After": str(verdict.retry_after)}
            )

    async def get_context(self, request: Request, response: Any = None) -> Context:
        """The per-request context: the caller (a failed sign-in is charged to the client
        address here) and the policy that follows from it."""
        principal, auth_error = await self._authenticate(request)
        return Context(
            services=request.app.state.services,
            principal=principal,
            auth_error=auth_error,
            request_id=request.state.request_id,
            documents=getattr(request.app.state, "documents", None),
            request_policy=self.request_policy(principal),
        )

    async def _authenticate(
        self, request: Request
    ) -> tuple[Principal | None, Unauthenticated | None]:
        address = _address(request)
        header = request.headers.get("authorization")
        authenticator = self.security.authenticator(request.app.state.services.clock)
        try:
            return await authenticator.authenticate(header), None
        except Unauthenticated as exc:
            if header:  # a wrong credential, not a missing one: counted apart from valid ones
                limit = self.security.rate_limit_failed_auth_per_address
                await self._limit(authfail_bucket(address), limit, 1)
            return None, exc

    def request_policy(self, principal: Principal | None) -> RequestPolicy:
        admin = principal is not None and principal.role is ApiKeyRole.ADMIN
        open_schema = self.security.introspection or admin
        return RequestPolicy(
            limits=self.security.limits, introspection=open_schema, suggestions=open_schema
        )

    async def _read_calls(self, request: Request) -> tuple[list[_Call], bool]:
        if _safe(request):
            return [_call_from_params(_get_params(request))], False
        content_type = request.headers.get("content-type")
        if not content_type:
            raise HTTPRefusal(400, f"Send a JSON body with Content-Type: {JSON}.")
        media, _, params = content_type.partition(";")
        if media.strip().lower() not in (JSON, GRAPHQL_RESPONSE):
            raise HTTPRefusal(415, f"Send a JSON body with Content-Type: {JSON}.")
        charset = re.search(r"charset=\"?([^\";]+)", params, re.IGNORECASE)
        if charset and charset.group(1).strip().lower() not in ("utf-8", "utf8"):
            raise HTTPRefusal(415, "Send the JSON body encoded as UTF-8.")
        body = await _read_body(request, self.security.max_body_bytes)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise HTTPRefusal(400, "The body is not valid JSON.") from None
        if isinstance(payload, list):
            if not payload or len(payload) > self.security.max_batch_operations:
                raise HTTPRefusal(
                    400,
                    f"A batch holds 1 to {self.security.max_batch_operations} operations.",
                )
            return [_call_from_params(p) for p in payload], True
        return [_call_from_params(payload)], False

    async def _execute(
        self,
        call: _Call,
        context: Context,
        allowed: tuple[OperationType, ...],
        media_type: str,
    ) -> tuple[int, dict[str, Any]]:
        if call.error is not None:
            return _request_error([call.error], media_type, context.request_id)
        choice = operation_choice_error(call.query, call.operation_name, context.request_policy)
        if choice is not None:
            return _request_error([choice], media_type, context.request_id)
        try:
            result = await self.schema.execute(
                call.query,
                variable_values=call.variables,
                context_value=context,
                operation_name=call.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=call.extensions,
            )
        except InvalidOperationTypeError:
            if OperationType.MUTATION in allowed:  # a POST: the operation is a subscription
                raise HTTPRefusal(400, _SUBSCRIBE_HOW) from None
            raise HTTPRefusal(
                405,
                "Only queries over GET: mutations over POST. " + _SUBSCRIBE_HOW,
                {"Allow": "POST"},
            ) from None
        except CannotGetOperationTypeError:
            error = GraphQLError(
                "No operation in the document has the name given in operationName.",
                extensions={"code": OPERATION_RESOLUTION_FAILURE},
            )
            return _request_error([error], media_type, context.request_id)
        except MissingQueryError:
            raise HTTPRefusal(400, "The request has no query.") from None
        if _is_request_error(result):
            return _request_error(result.errors or [], media_type, context.request_id)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        return 200, body


def _provider_settings(context: Context) -> tuple[str, str, str]:
    """What `paymentProvider` answers: set by the deploy, not recorded by any event."""
    provider = context.services.provider
    return (provider.name, provider.publishable_key, provider.js_url)


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing executed: a parse, validation or variable coercion error (no path)."""
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def _request_error(
    errors: list[GraphQLError], media_type: str, request_id: str
) -> tuple[int, dict[str, Any]]:
    if any(_crashed(e) for e in errors):  # an extension failed: logged, never shown
        masked = {"code": "INTERNAL", "requestId": request_id}
        return 500, {"errors": [{"message": "Unexpected error.", "extensions": masked}]}
    always = any((e.extensions or {}).get("code") in _ALWAYS_400 for e in errors)
    status = 400 if always or media_type == GRAPHQL_RESPONSE else 200
    return status, {"errors": [e.formatted for e in errors]}


def _crashed(error: GraphQLError) -> bool:
    """Not a request error: an exception (not a GraphQLError) raised before execution."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _call_from_params(params: Any) -> _Call:
    if not isinstance(params, dict):
        raise HTTPRefusal(400, "The body must be a JSON object with a query.")
    query = params.get("query")
    variables = params.get("variables")
    operation_name = params.get("operationName")
    extensions = params.get("extensions")
    persisted = isinstance(extensions, dict) and "persistedQuery" in extensions
    if not (persisted and query is None) and (not isinstance(query, str) or not query.strip()):
        raise HTTPRefusal(400, "The query parameter must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPRefusal(400, "variables must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPRefusal(400, "operationName must be a string.")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPRefusal(400, "extensions must be a JSON object.")
    return _Call(query or "", variables, operation_name or None, extensions)


def _get_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if params.get(name):
            try:
                params[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError:
                raise HTTPRefusal(400, f"{name} is not valid JSON.") from None
        else:
            params.pop(name, None)
    return params


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPRefusal(413, f"The body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPRefusal(413, f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header (None: nothing we can answer)."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        q_match = re.search(r"q=([0-9.]+)", params)
        try:
            quality = float(q_match.group(1)) if q_match else 1.0
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        chosen = {
            GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
            JSON: JSON,
            "application/*": JSON,
            "*/*": JSON,
        }.get(media)
        if chosen is None:
            continue
        rank = (quality, 1 if chosen == GRAPHQL_RESPONSE else 0, chosen)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return None if best is None else best[2]


def _safe(request: Request) -> bool:
    """GET, or HEAD (which Starlette routes wherever GET goes): parameters from the query
    string, queries only, never a body read. Anything else reaching here is a POST."""
    return request.method in ("GET", "HEAD")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _json_response(status: int, body: Any, media_type: str) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type=f"{media_type}; charset=utf-8"
    )


def _error_response(
    status: int, message: str, headers: dict[str, str], request_id: str | None = None
) -> Response:
    extensions = {"code": _CODES[status]}
    if request_id is not None:
        extensions["requestId"] = request_id
    return Response(
        orjson.dumps({"errors": [{"message": message, "extensions": extensions}]}),
        status_code=status,
        media_type=f"{JSON}; charset=utf-8",
        headers=headers,
    )


_CODES = {
    500: "INTERNAL",
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}
