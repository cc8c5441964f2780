"""Entry point for ASGI servers: `uvicorn --factory gateway.asgi:app_factory`."""

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import get_settings


def app_factory() -> Starlette:
    return create_app(get_settings())
