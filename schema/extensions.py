"""What a GraphQL error turns into: masked for the client when unexpected, and one log
line in every case that says which error and which request, never what was sent.

A log line carries the request id, the operation name, the error's class and code, and
for an unexpected error its path and traceback. The traceback keeps the frames (file,
line, code) and the exception class of each link of the chain, and leaves out every
exception's message: a message is where input ends up (graphql-core quotes the value it
could not coerce, a database error quotes the row it refused, our own services name
what they were given), and the request id finds the request when the message is needed.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from resolvers.errors import ExpectedGraphQLError
from schema.request_errors import BAD_USER_INPUT

log = logging.getLogger("gateway.graphql")

#: What Strawberry raises about the request's operation before running it (a query over
#: SSE or WebSocket, an operationName that names nothing, no query): the client's.
_REQUEST_SHAPE = (InvalidOperationTypeError, CannotGetOperationTypeError, MissingQueryError)
_REQUEST_SHAPE_MESSAGE = (
    "SSE and WebSocket carry subscriptions only; send queries and mutations as a plain "
    "POST (or a GET for a query), or name one subscription in operationName."
)

_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver (or an extension) failed: not an error about the request, not one of ours."""
    original = error.original_error
    if original is None:  # parse/validation errors, our coded request errors
        return False
    return not isinstance(original, (ExpectedGraphQLError, *_REQUEST_SHAPE))


def _is_variable_error(error: GraphQLError) -> bool:
    """graphql-core's own variable coercion error (RequestLimits coerces first, so only a
    disagreement between the two would show one): the client's, with the value inside."""
    return error.path is None and isinstance(error.original_error, GraphQLError)


def safe_operation_name(name: object) -> str | None:
    """The operation name for a log line: a GraphQL name, else nothing (a client picks it)."""
    return name if isinstance(name, str) and _OPERATION_NAME.fullmatch(name) else None


def redacted_traceback(exc: BaseException | None) -> str:
    """The traceback's frames and each exception's class, without the messages."""
    if exc is None:
        return ""
    lines: list[str] = []
    chain: list[traceback.TracebackException] = []
    current: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=False
    )
    while current is not None and all(current is not link for link in chain):
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    for link in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(link.stack.format())
        exc_type = link.exc_type
        name = "?" if exc_type is None else f"{exc_type.__module__}.{exc_type.__qualname__}"
        lines.append(f"{name} (message withheld: it may quote the request)\n")
    return "".join(lines).rstrip("\n")


def log_errors(errors: list[GraphQLError], execution_context: Any) -> None:
    """One line per error: unexpected ones at error level with the redacted traceback,
    the client's (request errors, our coded errors) at info."""
    context = getattr(execution_context, "context", None)
    request_id = getattr(context, "request_id", "") or ""
    try:
        operation = safe_operation_name(execution_context.operation_name)
    except Exception:  # no document to read the name from
        operation = None
    for error in errors:
        original = error.original_error
        fields: dict[str, Any] = {
            "request_id": request_id,
            "operation": operation,
            "error_class": type(original if original is not None else error).__name__,
            "code": (error.extensions or {}).get("code"),
        }
        if is_unexpected(error) and not _is_variable_error(error):
            fields["path"] = ".".join(str(p) for p in error.path or ())
            fields["traceback"] = redacted_traceback(original)
            log.error("unexpected error in a GraphQL operation", extra=fields)
        else:
            log.info("GraphQL error answered to the client", extra=fields)


class MaskUnexpectedErrors(MaskErrors):
    """Shows "Unexpected error." plus the request id (log_errors logged the details)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [
            GraphQLError(_REQUEST_SHAPE_MESSAGE, extensions={"code": "BAD_REQUEST"})
            if isinstance(error.original_error, _REQUEST_SHAPE)
            else error
            for error in super()._process_errors(errors)
        ]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "")
        masked = super().anonymise_error(error)
        if _is_variable_error(error):
            masked.message = "The variables do not match the operation's variable definitions."
            masked.extensions = {"code": BAD_USER_INPUT}
            return masked
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked
