"""The HTTP side of the metrics: the GraphQL latency wrapper, `GET /metrics` and the
worker's metrics port. What is measured, and the recorders every layer calls, live in
services/observability.py (re-exported here for the gateway's own modules)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    start_http_server,
)
from starlette.requests import Request
from starlette.responses import Response

from services.observability import (
    DATALOADER_BATCH,
    DOCUMENT_RENDER,
    GRAPHQL_ERRORS,
    GRAPHQL_LATENCY,
    MAX_OPERATIONS,
    PAYMENTS,
    PROVIDER_ERRORS,
    PROVIDER_LATENCY,
    WORKER_JOB_LAG,
    WORKER_LAST_TICK,
    OperationInfo,
    count_error,
    count_payment,
    current_operation,
    observe_batch,
    observe_provider_call,
    observe_render,
    operation_label,
    set_job_lag,
)

__all__ = [
    "DATALOADER_BATCH",
    "DOCUMENT_RENDER",
    "GRAPHQL_ERRORS",
    "GRAPHQL_LATENCY",
    "MAX_OPERATIONS",
    "PAYMENTS",
    "PROVIDER_ERRORS",
    "PROVIDER_LATENCY",
    "WORKER_JOB_LAG",
    "WORKER_LAST_TICK",
    "OperationInfo",
    "count_error",
    "count_payment",
    "current_operation",
    "metrics_endpoint",
    "observe_batch",
    "observe_provider_call",
    "observe_render",
    "operation_label",
    "set_job_lag",
    "start_worker_metrics",
    "timed_graphql",
]


def start_worker_metrics(port: int, host: str = "127.0.0.1") -> None:
    """The worker serves no HTTP: this exposes its registry on its own port."""
    start_http_server(port, addr=host)


ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class timed_graphql:
    """Wraps the GraphQL ASGI app: one latency sample per HTTP request, by operation.

    A class, not a closure: Starlette's Route calls plain functions as
    request -> response endpoints, and instances as ASGI apps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = OperationInfo()
        token = current_operation.set(info)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            current_operation.reset(token)
            if info.type != "unknown":
                GRAPHQL_LATENCY.labels(operation_label(info.name), info.type).observe(
                    time.perf_counter() - start
                )


def metrics_endpoint(registry: CollectorRegistry = REGISTRY) -> Callable[..., Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
