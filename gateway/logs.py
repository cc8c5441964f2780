"""Logging: structlog on top of the standard library, JSON in production.

Everything (our structlog events, the stdlib loggers of the gateway, uvicorn, Stripe)
goes through one formatter, so a request's lines share `request_id`. The access
line of a GraphQL request carries the caller and the operation name, never the
variables (they may hold tokens or personal data).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from gateway.settings import Settings

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_structlog() -> None:
    """Route structlog events into the standard library (idempotent); the handlers
    that print them are configure_logging's."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def json_logs(settings: Settings) -> bool:
    if settings.log_format is not None:
        return settings.log_format == "json"
    return settings.environment == "production"


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger: JSON lines in production, readable lines else."""
    configure_structlog()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_logs(settings)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per API call
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the demo mailbox
