"""The ASGI app: GraphQL plus health routes, with one provider client per process.

The lifespan opens the database and the provider client and closes both. Tests and
the demo may pass ready-made services (a recording provider, a fixed clock) instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from tortoise import connections

from gateway.db import close_db, init_db, listen_url, settings_url
from gateway.documents import check_document_settings, document_routes, install_documents
from gateway.gc_tuning import tune_gc
from gateway.graphql_http import GraphQLEndpoint
from gateway.ide import ide_routes
from gateway.metrics import observe_provider_call, timed_graphql
from gateway.metrics_http import metrics_routes, start_metrics_server
from gateway.portal import portal_routes
from gateway.ratelimit import build_rate_limiter
from gateway.security import SecurityConfig, check_production_settings, security_middleware
from gateway.settings import Settings
from gateway.trusted import TrustedDocuments
from gateway.usage_ingest import usage_routes
from gateway.webhooks import stripe_webhook
from models import SubscriptionStatus
from schema import schema
from services.clock import Clock, SystemClock
from services.context import ServiceContext
from services.documents.pool import Renderer, RenderPool
from services.events.fanout import start_fanout, stop_fanout
from services.policy import BillingPolicy
from services.provider.base import ProviderUnavailableError
from services.provider.instrumented import InstrumentedProvider
from services.provider.stripe import StripeProvider

log = logging.getLogger("gateway")


def build_services(settings: Settings, clock: Clock | None = None) -> ServiceContext:
    provider = StripeProvider(
        api_key=settings.stripe_api_key.get_secret_value(),
        publishable_key=settings.stripe_publishable_key,
        api_base=settings.stripe_api_base,
        js_url=settings.stripe_js_url,
        timeout_s=settings.stripe_timeout_seconds,
    )
    return ServiceContext(
        provider=InstrumentedProvider(provider, observe_provider_call),
        clock=clock or SystemClock(),
        policy=policy_from(settings),
    )


def policy_from(settings: Settings) -> BillingPolicy:
    return BillingPolicy(
        retry_days=tuple(settings.dunning_retry_days),
        final_status=SubscriptionStatus(settings.dunning_final_status),
        reconcile_after=timedelta(seconds=settings.reconcile_after_seconds),
        invoice_due_in=timedelta(days=settings.invoice_due_days),
        portal_url=settings.portal_url or f"{settings.public_url.rstrip('/')}/portal",
        public_url=settings.public_url,
        webhook_require_https=settings.environment == "production",
        webhook_allowed_targets=tuple(settings.webhook_allowed_targets),
    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and the provider can be reached."""
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        await request.app.state.services.provider.ping()
        checks["provider"] = "ok"
    except ProviderUnavailableError:
        checks["provider"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503
    )


def trusted_documents(settings: Settings) -> TrustedDocuments:
    """The trusted-documents policy; a manifest that fails its check stops start-up."""
    return TrustedDocuments.load(
        settings.trusted_documents,
        settings.trusted_documents_manifest,
        settings.trusted_documents_required_for,
    )


def create_app(
    settings: Settings,
    *,
    services: ServiceContext | None = None,
    manage_db: bool = True,
    renderer: Renderer | None = None,
) -> Starlette:
    """The app. With `services` the caller owns the provider (tests, demo); with
    `manage_db=False` the caller initialises Tortoise; with `renderer` the caller owns
    the PDF renderer, otherwise the app starts a process pool and stops it."""
    render_pool = None
    if renderer is None:
        renderer = render_pool = RenderPool(settings.document_render_workers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = services is None
        check_production_settings(settings)  # one line naming every public default left
        check_document_settings(settings)
        if render_pool is not None:
            render_pool.warm()
        if manage_db:
            await init_db(settings_url(settings))
        if owned:
            app.state.services = build_services(settings)
        events = await start_fanout(listen_url(settings))
        stop_metrics = start_metrics_server(settings)
        if settings.gc_gen0_threshold:
            tune_gc(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await stop_fanout(events)
            if stop_metrics is not None:
                stop_metrics()
            if owned:
                await app.state.services.provider.close()
            if manage_db:
                await close_db()
            if render_pool is not None:
                render_pool.shutdown()
            await limiter.close()

    limiter = build_rate_limiter(settings.redis_url, settings.rate_limit_window_seconds)
    graphql = GraphQLEndpoint(
        schema,
        SecurityConfig.from_settings(settings),
        limiter,
        graphiql=settings.graphiql_enabled,
        trusted=trusted_documents(settings),
    )
    routes = [
        Route("/graphql", timed_graphql(graphql), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql.streams.websocket),
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *metrics_routes(settings),
        *document_routes(),
        *portal_routes(),
        *usage_routes(settings),
        *(ide_routes() if settings.graphiql_enabled else []),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=security_middleware(settings))
    app.state.settings = settings
    app.state.event_streams = graphql.streams  # servers close them first when they stop
    app.state.limiter = limiter  # the routes outside GraphQL throttle failed credentials too
    if services is not None:
        app.state.services = services
    clock = services.clock if services is not None else SystemClock()
    install_documents(app, settings, clock, renderer)
    return app
