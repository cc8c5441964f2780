"""The one gate every field's arguments pass before its resolver runs.

`ValidateInputs` cleans the arguments of every field resolved with arguments through
resolvers/validation.py: the resolver gets the normalised values (stripped, NFC); a
refused value never reaches it, so no service runs, no row is written and the provider
is never called. A refusal is INVALID_INPUT with `field` = the input path:

- on a mutation, as the `InvalidInputError` member of its result union;
- on a nullable query field, as a top-level error at the field's path (the field is null);
- on a non-null connection (`invoices`, `accounts`), as an error at the field's path
  while the field answers an empty page, so that one bad argument does not null the
  object that holds it (the contract keeps these fields non-null). The same goes for an
  INVALID_INPUT the connection's resolver raises about its arguments (`first` out of
  range, a cursor that is not ours).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLUnionType,
    get_named_type,
    get_operation_ast,
    is_non_null_type,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.graphql import OperationType

from resolvers.errors import ExpectedGraphQLError, raise_top_level, to_user_error
from resolvers.validation import clean_arguments
from schema.types.common import PageInfo
from services.errors import InvalidInput


def _empty_page(return_type: Any) -> Callable[[], object] | None:
    """For a non-null connection (`XConnection!`): its empty page, else None."""
    named = get_named_type(return_type)
    if not is_non_null_type(return_type) or not named.name.endswith("Connection"):
        return None
    definition = (named.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    connection = getattr(definition, "origin", None)
    if connection is None:
        return None
    counted = "totalCount" in getattr(named, "fields", {})

    def empty() -> object:
        page_info = PageInfo.of([], has_next_page=False, has_previous_page=False)
        extra = {"total_count": 0} if counted else {}
        return connection(edges=[], page_info=page_info, **extra)

    return empty


def _field_error(info: GraphQLResolveInfo, exc: InvalidInput) -> GraphQLError:
    extensions: dict[str, Any] = {"code": exc.code}
    if exc.field:
        extensions["field"] = exc.field
    return located_error(
        ExpectedGraphQLError(exc.message, extensions=extensions),
        info.field_nodes,
        info.path.as_list(),
    )


class ValidateInputs(SchemaExtension):
    """See the module docstring."""

    # Fields without arguments pass through `resolve` untouched, so schema/executor.py
    # may complete plain ones without calling it.
    passes_plain_fields = True

    def on_execute(self) -> Iterator[None]:
        self._field_errors: list[GraphQLError] = []
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            self._check_subscription()
        yield
        result = self.execution_context.result
        if self._field_errors and isinstance(result, ExecutionResult):
            result.errors = [*(result.errors or ()), *self._field_errors]

    def _check_subscription(self) -> None:
        """graphql-core calls a subscription's source resolver without middleware: its
        arguments are checked here, before the stream opens, and a refusal is the
        operation's one error."""
        ctx = self.execution_context
        schema = ctx.schema._schema
        root = schema.subscription_type
        document = ctx.graphql_document
        operation = None if document is None else get_operation_ast(document, ctx.operation_name)
        if root is None or operation is None:
            return
        variables = get_variable_values(
            schema, operation.variable_definitions or (), ctx.variables or {}
        )
        if isinstance(variables, list):
            return  # graphql-core reports bad variables itself
        for node in operation.selection_set.selections:
            if not isinstance(node, FieldNode) or node.name.value not in root.fields:
                continue
            field = root.fields[node.name.value]
            try:
                values = get_argument_values(field, node, variables)
            except GraphQLError:
                return
            try:
                clean_arguments(root.name, node.name.value, field.args, values)
            except InvalidInput as exc:
                name = node.alias.value if node.alias else node.name.value
                raise ExpectedGraphQLError(
                    exc.message,
                    [node],
                    path=[name],
                    extensions={"code": exc.code, "field": exc.field},
                ) from None

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if not kwargs or info.field_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        field = info.parent_type.fields[info.field_name]
        try:
            cleaned = clean_arguments(info.parent_type.name, info.field_name, field.args, kwargs)
        except InvalidInput as exc:
            return self._refuse(info, exc)
        result = _next(root, info, *args, **cleaned)
        empty = _empty_page(info.return_type)
        return result if empty is None else self._guard_connection(result, info, empty)

    def _refuse(self, info: GraphQLResolveInfo, exc: InvalidInput) -> Any:
        returns = get_named_type(info.return_type)
        if isinstance(returns, GraphQLUnionType) and any(
            member.name == "InvalidInputError" for member in returns.types
        ):
            return to_user_error(exc)
        empty = _empty_page(info.return_type)
        if empty is None:
            raise_top_level(exc)
        self._field_errors.append(_field_error(info, exc))
        return empty()

    async def _guard_connection(
        self, result: Any, info: GraphQLResolveInfo, empty: Callable[[], object]
    ) -> Any:
        """A connection's own INVALID_INPUT about its arguments lands on it alone."""
        try:
            return await result if inspect.isawaitable(result) else result
        except ExpectedGraphQLError as error:
            if (error.extensions or {}).get("code") != InvalidInput.code:
                raise
            self._field_errors.append(located_error(error, info.field_nodes, info.path.as_list()))
            return empty()
