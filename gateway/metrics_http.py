"""Where `/metrics` is served: the API port (guarded in production) and its own port.

Metrics say how much money moves and which operations customers run: outside
production they are open on the API port (developers, the demo, `make bench`); in
production the API port serves them only with `Authorization: Bearer
$BILLING_METRICS_TOKEN` and answers 404 without a token configured. A
`BILLING_METRICS_PORT` serves them apart, on `BILLING_METRICS_HOST` (loopback by
default), for a scraper on the same host or network namespace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import start_http_server
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.metrics import metrics_endpoint
from gateway.ratelimit import throttle_failed_auth
from gateway.settings import Settings

log = logging.getLogger("gateway.metrics")

Endpoint = Callable[[Request], Awaitable[Response]]


def metrics_routes(settings: Settings) -> list[Route]:
    """`GET /metrics` on the API port, when and as this environment allows."""
    endpoint = metrics_endpoint()
    if settings.metrics_token is not None:
        return [Route("/metrics", _bearer(settings.metrics_token.get_secret_value(), endpoint))]
    if settings.environment == "production":
        return []  # not on the public port without a token: 404
    return [Route("/metrics", endpoint)]


def _bearer(token: str, endpoint: Endpoint) -> Endpoint:
    expected = f"Bearer {token}".encode()

    async def guarded(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            throttled = await throttle_failed_auth(request)  # a wrong token: per address
            if throttled is not None:
                return throttled
            return PlainTextResponse(
                "metrics need the bearer token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return await endpoint(request)

    return guarded


def start_metrics_server(settings: Settings) -> Callable[[], None] | None:
    """Serve the registry on its own port (a thread); returns how to stop it.

    Behind `serve --workers N` only the first process gets the port (each process has
    its own registry; see gateway/metrics.py): the others log it and go on."""
    if settings.metrics_port <= 0:
        return None
    try:
        server, thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
    except OSError as exc:
        log.warning(
            "metrics port %s:%s not served here: %s",
            settings.metrics_host,
            settings.metrics_port,
            exc.strerror,
        )
        return None
    log.info("metrics on http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
