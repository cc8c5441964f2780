"""Execution with a short path for plain fields.

A partner page over 100 accounts completes about 25,000 fields, and most of them read an
attribute (`Invoice.number`, `Money.amount`) or call a method that needs nothing but the
object (`Money.formatted`, `InvoiceConnection.nodes`). For each of them graphql-core and
Strawberry build a `GraphQLResolveInfo`, a Strawberry `Info`, the argument lists, the
middleware chain and the field-extension chain, then check twice for an awaitable: the
read itself is the cheapest step.

A field is *plain* when Strawberry would run nothing but that read: no field extension
or permission, no exception handler, no GraphQL arguments, and either no resolver (the
default `getattr`) or a synchronous resolver whose only parameter is `self`. For those:

- a scalar or enum is read and coerced in place, with no `Path`, no info object;
- any other type is read, then completed by graphql-core's own `complete_value`.

Errors keep graphql-core's shape: an exception, a null on a non-null field or a value
that does not coerce goes through `handle_field_error` with the field's path, so null
propagation and messages are the same. The short path runs no middleware, so it is only
taken when every middleware of the request declares `passes_plain_fields = True` (it
leaves fields without arguments alone); otherwise execution is graphql-core's throughout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

_TYPENAME = "__typename"


@dataclass(frozen=True, slots=True)
class PlainField:
    """How to read one plain field, decided once per schema field."""

    parent: str
    name: str
    field: GraphQLField
    definition: StrawberryField
    read: Callable[..., Any]
    needs_info: bool  # the resolver takes Strawberry's Info (built only for those)
    leaf: GraphQLLeafType | None  # the scalar or enum, when the field is one
    nullable: bool


def _reader(definition: StrawberryField) -> tuple[Callable[..., Any], bool] | None:
    """The function that reads the field, and whether it takes Strawberry's `Info`."""
    resolver = definition.base_resolver
    if resolver is None:
        return attrgetter(definition.python_name), False
    if resolver.is_async or resolver.self_parameter is None or not callable(resolver.wrapped_func):
        return None
    info = resolver.info_parameter
    expected = {resolver.self_parameter.name} | ({info.name} if info is not None else set())
    if set(resolver.signature.parameters) != expected:  # root, parent or arguments
        return None
    function = resolver.wrapped_func
    if info is None:
        return function, False
    name = info.name
    return (lambda source, strawberry_info: function(source, **{name: strawberry_info})), True


def plain_field(parent: str, name: str, field: GraphQLField) -> PlainField | None:
    """A field's short path, or None when it must run through its resolver."""
    if field.args:
        return None
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    if definition.base_resolver is None:
        # Strawberry's own short path for basic fields (no exception handler either);
        # a field under any other default resolver than getattr keeps it.
        basic = getattr(field.resolve, "__name__", "") == "_get_basic_result"
        if not basic or definition.default_resolver is not getattr:
            return None
    elif getattr(field.resolve, "__name__", "") != "_resolver":
        return None  # async, or wrapped for exception handlers
    reader = _reader(definition)
    if reader is None:
        return None
    read, needs_info = reader
    nullable = not is_non_null_type(field.type)
    inner = field.type if nullable else field.type.of_type  # type: ignore[attr-defined]
    leaf = inner if is_leaf_type(inner) else None
    return PlainField(parent, name, field, definition, read, needs_info, leaf, nullable)


_plans: dict[int, tuple[GraphQLObjectType, dict[str, PlainField | None]]] = {}


def _plans_of(parent_type: GraphQLObjectType) -> dict[str, PlainField | None]:
    entry = _plans.get(id(parent_type))
    if entry is None or entry[0] is not parent_type:
        entry = (
            parent_type,
            {
                name: plain_field(parent_type.name, name, field)
                for name, field in parent_type.fields.items()
            },
        )
        _plans[id(parent_type)] = entry  # holding the type keeps its id from being reused
    return entry[1]


_targets: dict[int, tuple[GraphQLOutputType, GraphQLObjectType | None]] = {}


def _object_target(return_type: GraphQLOutputType) -> GraphQLObjectType | None:
    """The object type of `T` or `T!`; None for lists, leaves and abstract types."""
    entry = _targets.get(id(return_type))
    if entry is None or entry[0] is not return_type:
        inner = return_type.of_type if is_non_null_type(return_type) else return_type  # type: ignore[attr-defined]
        entry = (return_type, inner if is_object_type(inner) else None)
        _targets[id(return_type)] = entry
    return entry[1]


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the short path of the module docstring."""

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
        plans = _plans_of(parent_type)
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
            _plans_of(parent_type).get(field_details_list[0].node.name.value)
            if self.plain_fields
            else None
        )
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return_type: GraphQLOutputType = plan.field.type
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(plan.field, nodes, parent_type, path)
        try:
            if plan.needs_info:
                result = plan.read(source, Info(_raw_info=info, _field=plan.definition))
            else:
                result = plan.read(source)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settle(completed, return_type, field_details_list, path)
        return completed

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object (or a non-null one) whose type accepts it goes straight to its
        fields; anything else (null, an error, an awaitable type check, a deferred
        fragment) is graphql-core's, unchanged."""
        target = _object_target(return_type)
        if (
            target is not None
            and self.plain_fields
            and position_context is None
            and result is not None
            and not isinstance(result, Exception)
            and (target.is_type_of is None or target.is_type_of(result, info) is True)
        ):
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                target, field_details_list
            )
            if not new_defer_usages:
                return self.execute_fields(target, result, path, grouped_field_set, None)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

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


__all__ = ["PlainField", "PlainFieldsExecutor", "plain_field"]
