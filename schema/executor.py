"""Execution with a short path for plain fields and for objects.

A partner page over 100 accounts completes about 25,000 fields, and most of them read an
attribute (`Invoice.number`, `Money.amount`) or call a method that needs nothing but the
object (`Money.formatted`, `InvoiceConnection.nodes`). For each of them graphql-core and
Strawberry build a `GraphQLResolveInfo`, a Strawberry `Info`, the argument lists, the
middleware chain and the field-extension chain, then check twice for an awaitable: the
read itself is the cheapest step. Then every object passes through five layers of
`complete_value` before its own fields run.

For plain fields (schema/plain_fields.py says which):

- a scalar or enum is read and coerced in place, with no `Path` and no info object;
- an object is read and its fields executed directly;
- anything else is read, then completed by graphql-core's own `complete_value`.

Objects, whoever resolved them, and lists of objects go straight to their fields when the
type surely accepts them (Strawberry's isinstance check, or none).

Errors keep graphql-core's shape: an exception, a null on a non-null field, a value that
does not coerce, a wrong object or a deferred fragment goes through graphql-core's path
or `handle_field_error` with the field's path, so messages, paths and null propagation
are the same (tests/graphql/test_executor.py compares them). The short path runs no
middleware, so it is only taken when every middleware of the request declares
`passes_plain_fields = True` (it leaves fields without arguments alone); otherwise
execution is graphql-core's throughout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import GraphQLList, GraphQLObjectType, GraphQLOutputType, GraphQLResolveInfo
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.info import Info

from schema.plain_fields import PlainField, Target, item_target_of, plans_of, target_of

_TYPENAME = "__typename"


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the short paths of the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        middlewares = manager.middlewares if manager is not None else ()
        self.plain_fields = all(getattr(m, "passes_plain_fields", False) for m in middlewares)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self.plain_fields:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plans = plans_of(parent_type)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        pending: list[str] = []
        try:
            for response_name, details in grouped_field_set.items():
                name = details[0].node.name.value
                plan = plans.get(name)
                if plan is not None and plan.leaf is not None and not plan.needs_info:
                    results[response_name] = self._leaf(plan, source_value, details, path)
                    continue
                if name == _TYPENAME:
                    results[response_name] = parent_type.name
                    continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        return _gather_fields(results, pending) if pending else results

    def _leaf(
        self, plan: PlainField, source: Any, details: FieldDetailsList, path: Path | None
    ) -> Any:
        """A scalar or enum field's value, as graphql-core would complete it."""
        try:
            value = plan.read(source)
            if value is None:
                if plan.nullable:
                    return None
                msg = f"Cannot return null for non-nullable field {plan.parent}.{plan.name}."
                raise TypeError(msg)
            if isinstance(value, Exception):
                raise value
            return self.complete_leaf_value(plan.leaf, value)  # type: ignore[arg-type]
        except Exception as raw_error:
            node = details[0].node
            response_name = node.alias.value if node.alias else node.name.value
            field_path = Path(path, response_name, plan.parent)
            self.handle_field_error(raw_error, plan.field.type, details, field_path)
            return None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = (
            plans_of(parent_type).get(field_details_list[0].node.name.value)
            if self.plain_fields and position_context is None
            else None
        )
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return_type: GraphQLOutputType = plan.field.type
        try:
            info = None
            if plan.needs_info:
                info = self._info(plan, field_details_list, parent_type, path)
                result = plan.read(source, Info(_raw_info=info, _field=plan.definition))
            else:
                result = plan.read(source)
            if self.is_awaitable(result):
                info = info or self._info(plan, field_details_list, parent_type, path)
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, None
                )
            completed = Undefined
            if plan.target is not None:
                completed = self._object(plan.target, field_details_list, path, result)
            if completed is Undefined:
                info = info or self._info(plan, field_details_list, parent_type, path)
                completed = self.complete_value(
                    return_type, field_details_list, info, path, result, None
                )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settle(completed, return_type, field_details_list, path)
        return completed

    def _info(
        self,
        plan: PlainField,
        field_details_list: FieldDetailsList,
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> GraphQLResolveInfo:
        nodes = [details.node for details in field_details_list]
        return self.build_resolve_info(plan.field, nodes, parent_type, path)

    def _object(
        self, target: Target, field_details_list: FieldDetailsList, path: Path, value: Any
    ) -> Any:
        """The value's fields executed, or Undefined when graphql-core must complete it."""
        if value is None or isinstance(value, Exception) or not target.accepts(value):
            return Undefined
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            target.type, field_details_list
        )
        if new_defer_usages:
            return Undefined
        return self.execute_fields(target.type, value, path, grouped_field_set, None)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object (or a non-null one) that its type surely accepts goes straight to
        its fields; anything else is graphql-core's, unchanged."""
        target = target_of(return_type)
        if target is not None and self.plain_fields and position_context is None:
            completed = self._object(target, field_details_list, path, result)
            if completed is not Undefined:
                return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects that their type surely accepts: each item's fields run in
        turn, with graphql-core's per-item error handling. Anything else (an awaitable or
        null item, @stream, a deferred fragment) is graphql-core's."""
        items = item_target_of(return_type)
        if (
            items is None
            or not self.plain_fields
            or position_context is not None
            or type(result) is not list
            or any(details.node.directives for details in field_details_list)
        ):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        target, _ = items
        accepts = target.accepts
        new_defer_usages = self.collect_subfields(target.type, field_details_list)[1]
        if new_defer_usages or not all(v is not None and accepts(v) for v in result):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        return self._items(target.type, return_type.of_type, field_details_list, path, result)

    def _items(
        self,
        item_type: GraphQLObjectType,
        declared: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        values: Sequence[Any],
    ) -> Any:
        grouped_field_set = self.collect_subfields(item_type, field_details_list)[0]
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, value in enumerate(values):
                item_path = Path(path, index, None)
                try:
                    item = self.execute_fields(item_type, value, item_path, grouped_field_set, None)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, declared, field_details_list, item_path)
                    item = None
                if self.is_awaitable(item):
                    item = self._settle(item, declared, field_details_list, item_path)
                    pending.append(index)
                completed.append(item)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        return _gather_items(completed, pending) if pending else completed

    async def _settle(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


async def _gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
        return results
    awaited: list[Any] = await gather_with_cancel(*(results[name] for name in pending))
    results.update(zip(pending, awaited, strict=True))
    return results


async def _gather_items(completed: list[Any], pending: list[int]) -> list[Any]:
    awaited: list[Any] = await gather_with_cancel(*(completed[index] for index in pending))
    for index, value in zip(pending, awaited, strict=True):
        completed[index] = value
    return completed


__all__ = ["PlainFieldsExecutor"]
