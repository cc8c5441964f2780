"""Schema extensions: unexpected errors are masked for clients and logged with a request id."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers.errors import ExpectedGraphQLError

log = logging.getLogger("gateway.graphql")


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:  # parse/validation errors: safe to show
        return False
    return not isinstance(original, ExpectedGraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Shows "Unexpected error." plus the request id; the traceback goes to the log only."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "")
        log.error(
            "unexpected error in GraphQL resolver",
            exc_info=error.original_error,
            extra={"request_id": request_id, "path": error.path},
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked
