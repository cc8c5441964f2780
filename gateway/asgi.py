"""Entry point for ASGI servers: `uvicorn --factory gateway.asgi:app_factory`."""

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.settings import get_settings


def app_factory() -> Starlette:
    settings = get_settings()
    configure_logging(settings)  # again in each worker process
    return create_app(settings)
