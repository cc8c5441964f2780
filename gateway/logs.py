"""Logging: structlog on top of the standard library, JSON in production.

Everything (our structlog events, the stdlib loggers of the gateway, uvicorn, Stripe)
goes through one formatter, so a request's lines share `request_id`. The access
line of a GraphQL request carries the caller and the operation name, never the
variables (they may hold tokens or personal data).

No input value reaches a log: GraphQL errors are logged by class, code and request id
(schema/extensions.py); uvicorn's access line loses its query string (a GET request
carries its variables there); the SQL loggers, whose DEBUG lines carry the statements'
parameters (names, emails, tax IDs), stay at INFO whatever the log level. Every
other traceback, from any logger (the worker, the CLI, a route), is printed by the one
formatter with its frames and exception classes but without the messages, which can
quote rows and inputs.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from gateway.settings import Settings
from schema.extensions import redacted_traceback

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


class _WithoutQueryString(logging.Filter):
    """uvicorn's access line, `client - "GET /graphql?query=...&variables=..." 200`, with
    the path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, question, _ = args[2].partition("?")
            record.args = (*args[:2], path + ("?…" if question else ""), *args[3:])
        return True


_SQL_LOGGERS = ("tortoise.db_client", "aiosqlite", "asyncpg")


def strip_access_query_strings() -> None:
    """uvicorn's access lines without query strings (idempotent; every GraphQL endpoint
    calls it, so an app served by any uvicorn command line is covered)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _WithoutQueryString) for f in access.filters):
        access.addFilter(_WithoutQueryString())


def keep_values_out_of_logs() -> None:
    """The logger settings that keep request values out of third-party log lines."""
    strip_access_query_strings()
    for name in _SQL_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))


def json_logs(settings: Settings) -> bool:
    if settings.log_format is not None:
        return settings.log_format == "json"
    return settings.environment == "production"


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger: JSON lines in production, readable lines else."""
    configure_structlog()
    keep_values_out_of_logs()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter(json=json_logs(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per API call
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the demo mailbox


def _redacted_exc_info(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog's format_exc_info, minus the exception messages."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if exc is not None:
            event["exception"] = redacted_traceback(exc)
    return event


def log_formatter(*, json: bool) -> logging.Formatter:
    """The formatter of the one handler: JSON lines, or readable lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redacted_exc_info,
            renderer,
        ],
    )
