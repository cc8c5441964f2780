"""Which fields schema/executor.py may complete without their resolver wrapper.

A field is *plain* when Strawberry would run nothing but a read of the object: no field
extension or permission, no exception handler, no GraphQL arguments, and either no
resolver (the default `getattr`) or a synchronous resolver whose only parameters are
`self` and, optionally, `info`. Decided once per schema field and kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# Strawberry's own `is_type_of` (an isinstance check) never reads its info argument.
_STRAWBERRY_TYPE_CHECK = "_get_is_type_of.<locals>.is_type_of"


@dataclass(frozen=True, slots=True)
class PlainField:
    """How to read one plain field."""

    parent: str
    name: str
    field: GraphQLField
    definition: StrawberryField
    read: Callable[..., Any]
    needs_info: bool  # the resolver takes Strawberry's Info (built only for those)
    leaf: GraphQLLeafType | None  # the scalar or enum, when the field is one
    nullable: bool
    target: Target | None  # the object type of `T` or `T!`


@dataclass(frozen=True, slots=True)
class Target:
    """An object type a value completes to, and whether its type check needs an info."""

    type: GraphQLObjectType
    checks_without_info: bool

    def accepts(self, value: Any) -> bool:
        """True when the value is surely of this type (False: let graphql-core decide)."""
        check = self.type.is_type_of
        if check is None:
            return True
        return self.checks_without_info and check(value, None) is True


def _reader(definition: StrawberryField) -> tuple[Callable[..., Any], bool] | None:
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
    resolve_name = getattr(field.resolve, "__name__", "")
    if definition.base_resolver is None:
        # Strawberry's own short path for basic fields (no exception handler either);
        # a field under any other default resolver than getattr keeps it.
        if resolve_name != "_get_basic_result" or definition.default_resolver is not getattr:
            return None
    elif resolve_name != "_resolver":
        return None  # async, or wrapped for exception handlers
    reader = _reader(definition)
    if reader is None:
        return None
    read, needs_info = reader
    nullable = not is_non_null_type(field.type)
    inner = field.type if nullable else field.type.of_type  # type: ignore[attr-defined]
    leaf = inner if is_leaf_type(inner) else None
    return PlainField(
        parent, name, field, definition, read, needs_info, leaf, nullable, target_of(field.type)
    )


_plans: dict[int, tuple[GraphQLObjectType, dict[str, PlainField | None]]] = {}


def plans_of(parent_type: GraphQLObjectType) -> dict[str, PlainField | None]:
    """Every field of a type with its plan (None: not plain)."""
    entry = _plans.get(id(parent_type))
    if entry is None or entry[0] is not parent_type:
        fields = parent_type.fields.items()
        entry = (parent_type, {n: plain_field(parent_type.name, n, f) for n, f in fields})
        _plans[id(parent_type)] = entry  # holding the type keeps its id from being reused
    return entry[1]


_targets: dict[int, tuple[GraphQLOutputType, Target | None]] = {}
_items: dict[int, tuple[GraphQLOutputType, tuple[Target, bool] | None]] = {}


def target_of(return_type: GraphQLOutputType) -> Target | None:
    """The object type of `T` or `T!`; None for lists, leaves and abstract types."""
    entry = _targets.get(id(return_type))
    if entry is None or entry[0] is not return_type:
        inner = return_type.of_type if is_non_null_type(return_type) else return_type  # type: ignore[attr-defined]
        target = None
        if is_object_type(inner):
            check = inner.is_type_of
            free = check is None or check.__qualname__.endswith(_STRAWBERRY_TYPE_CHECK)
            target = Target(inner, free)
        entry = (return_type, target)
        _targets[id(return_type)] = entry
    return entry[1]


def item_target_of(list_type: GraphQLOutputType) -> tuple[Target, bool] | None:
    """For `[T]` or `[T!]` (the list itself unwrapped): T's target, and whether items
    may be null; None when the items are not objects."""
    entry = _items.get(id(list_type))
    if entry is None or entry[0] is not list_type:
        found = None
        if is_list_type(list_type):
            item_type = list_type.of_type  # type: ignore[attr-defined]
            target = target_of(item_type)
            if target is not None:
                found = (target, not is_non_null_type(item_type))
        entry = (list_type, found)
        _items[id(list_type)] = entry
    return entry[1]
