"""Prometheus metrics: what they measure and the small functions that record them.

The lowest layer: every other one (services, resolvers, the schema's extension,
gateway) may record here, and it imports nothing of ours (prometheus-client only).
`GET /metrics` and the worker's metrics port live in gateway/metrics.py. Label values are
bounded: operation names are checked and capped (a client chooses them), error codes
and payment outcomes come from our own enums.

Each process has its own registry: behind `serve --workers N` a scrape sees the
worker that answered. Run one worker per container/pod (or scrape each port) when
that matters.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)

GRAPHQL_LATENCY = Histogram(
    "billing_graphql_request_seconds",
    "GraphQL HTTP requests, end to end (auth, parse, validate, execute, encode).",
    ["operation", "type"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "billing_graphql_errors_total",
    "Errors answered: top-level errors by extensions.code, user errors by their code.",
    ["code", "kind"],
)
PAYMENTS = Counter(
    "billing_payments_total",
    "payInvoice / confirmPayment outcomes: a payment status or the error code.",
    ["mutation", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "billing_provider_request_seconds",
    "Calls to the payment provider, by method.",
    ["method"],
    buckets=_LATENCY_BUCKETS,
)
PROVIDER_ERRORS = Counter(
    "billing_provider_errors_total",
    "Provider calls that raised: `unavailable` (outcome unknown) or `rejected`.",
    ["method", "kind"],
)
DATALOADER_BATCH = Histogram(
    "billing_dataloader_batch_size",
    "Keys per DataLoader batch (one SQL statement each).",
    ["loader"],
    buckets=_BATCH_BUCKETS,
)
DOCUMENT_RENDER = Histogram(
    "billing_document_render_seconds",
    "Invoice and receipt PDF renders.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WORKER_JOB_LAG = Gauge(
    "billing_worker_job_lag_seconds",
    "Age of the oldest due, unprocessed row per worker job (0 when none is waiting).",
    ["job"],
)
WORKER_LAST_TICK = Gauge(
    "billing_worker_last_tick_timestamp_seconds", "When the worker last finished a pass."
)

_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: Distinct operation names kept as labels; later ones count as "other".
MAX_OPERATIONS = 200
_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _operations:
        return name
    if not _OPERATION_NAME.fullmatch(name) or len(_operations) >= MAX_OPERATIONS:
        return "other"
    _operations.add(name)
    return name


@dataclass
class OperationInfo:
    """Filled in by the schema extension while a request runs, read when it ends."""

    name: str | None = None
    type: str = "unknown"


def observe_batch(loader: str, size: int) -> None:
    DATALOADER_BATCH.labels(loader).observe(size)


def count_error(code: str, kind: str) -> None:
    """kind: `top_level` or `user` (a UserError in a mutation's result union)."""
    GRAPHQL_ERRORS.labels(code, kind).inc()


def count_payment(mutation: str, outcome: str) -> None:
    PAYMENTS.labels(mutation, outcome).inc()


def observe_provider_call(method: str, seconds: float, error: str | None) -> None:
    """The `observe` callback of services.provider.instrumented.InstrumentedProvider."""
    PROVIDER_LATENCY.labels(method).observe(seconds)
    if error is not None:
        PROVIDER_ERRORS.labels(method, error).inc()


def observe_render(kind: str, seconds: float) -> None:
    """For the documents pool: one call per rendered PDF."""
    DOCUMENT_RENDER.labels(kind).observe(seconds)


def set_job_lag(job: str, seconds: float) -> None:
    """For the worker: after each step, the age of the oldest row still due."""
    WORKER_JOB_LAG.labels(job).set(max(seconds, 0.0))
    WORKER_LAST_TICK.set_to_current_time()


#: Set per request by gateway.metrics.timed_graphql, filled in by
#: schema.observability.OperationMetrics.
current_operation: ContextVar[OperationInfo | None] = ContextVar("graphql_operation", default=None)
