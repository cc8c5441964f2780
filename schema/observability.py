"""Metrics for every GraphQL operation: its name and type for the request latency
histogram (gateway.metrics.timed_graphql), and top-level errors by code."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import ExpectedGraphQLError
from schema.limits import LIMIT_CODES
from schema.request_errors import REQUEST_CODES
from services import observability as metrics


def error_code(error: GraphQLError) -> str:
    """A bounded label: our own codes (ExpectedGraphQLError, masked INTERNAL), else the
    kind of failure."""
    code = (error.extensions or {}).get("code")
    original = error.original_error
    if original is None:  # parse, validation, variables or limits, or one already masked
        if code == "INTERNAL" or code in REQUEST_CODES or code in LIMIT_CODES:
            return str(code)
        return "GRAPHQL_VALIDATION"
    if isinstance(original, ExpectedGraphQLError) and isinstance(code, str):
        return code
    return "INTERNAL"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        info = metrics.current_operation.get()
        if info is not None:
            info.name = ctx.operation_name
            try:
                info.type = ctx.operation_type.value
            except Exception:  # no document (parse error) or an unknown operation name
                info.type = "invalid"
        result = ctx.result
        for error in (result.errors if result is not None else None) or ():
            metrics.count_error(error_code(error), "top_level")
