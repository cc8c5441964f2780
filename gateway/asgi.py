"""Entry point for ASGI servers: `uvicorn --factory gateway.asgi:app_factory`."""

import sys

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.security import check_production_settings
from gateway.settings import get_settings


def app_factory() -> Starlette:
    """The app for uvicorn. A production still on a public development secret is refused
    here, before uvicorn starts the lifespan (which would print the refusal inside a
    traceback): one line on stderr and exit status 2, as `billing-gateway serve`."""
    settings = get_settings()
    try:
        check_production_settings(settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings)  # again in each worker process
    return create_app(settings)
