"""Depth, aliases and cost of a document, for schema/limits.py.

Every walk memoises per fragment, so a fragment spread many times over cannot make the
analysis itself exponential. Introspection (`__schema`, `__type`) is walked like any
other field: its lists cost the assumed list size, and its depth is measured against
its own limit (the standard introspection query is 15 levels deep).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def limit_error(message: str, code: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


class Shape:
    """Depth and aliases. A fragment cycle reads as too deep (graphql-core's
    NoFragmentCycles rule names it)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._depths: dict[tuple[str, int], int] = {}
        self._introspection: dict[tuple[str, int], int] = {}
        self._aliases: dict[str, int] = {}

    def depth(self, selection_set: SelectionSetNode | None, budget: int) -> int:
        """The depth without introspection, counted no further than budget + 1."""
        deepest = 0
        for item in selection_set.selections if selection_set else ():
            if isinstance(item, FieldNode):
                if item.name.value.startswith("__"):
                    continue
                nested = item.selection_set is not None and budget > 0
                depth = 1 + (self.depth(item.selection_set, budget - 1) if nested else 0)
            elif isinstance(item, InlineFragmentNode):
                depth = self.depth(item.selection_set, budget)
            else:
                assert isinstance(item, FragmentSpreadNode)
                depth = self._fragment_depth(item.name.value, budget, self._depths, self.depth)
            deepest = max(deepest, depth)
            if deepest > budget:
                break
        return deepest

    def introspection_depth(self, selection_set: SelectionSetNode | None, budget: int) -> int:
        """The depth of the deepest `__schema` / `__type` selection (they sit on the root)."""
        deepest = 0
        for item in selection_set.selections if selection_set else ():
            if isinstance(item, FieldNode):
                if item.name.value not in _META_FIELDS or budget <= 0:
                    depth = int(item.name.value in _META_FIELDS)
                else:
                    depth = 1 + self.depth(item.selection_set, budget - 1)
            elif isinstance(item, InlineFragmentNode):
                depth = self.introspection_depth(item.selection_set, budget)
            else:
                assert isinstance(item, FragmentSpreadNode)
                depth = self._fragment_depth(
                    item.name.value, budget, self._introspection, self.introspection_depth
                )
            deepest = max(deepest, depth)
            if deepest > budget:
                break
        return deepest

    def _fragment_depth(
        self, name: str, budget: int, memo: dict[tuple[str, int], int], walk: Any
    ) -> int:
        key = (name, budget)
        if key not in memo:
            memo[key] = budget + 1  # seen again while computing: a cycle
            fragment = self.fragments.get(name)
            nested = None if fragment is None else fragment.selection_set
            memo[key] = walk(nested, budget)
        return memo[key]

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        """Aliased fields, each fragment spread counting again."""
        count = 0
        for item in selection_set.selections if selection_set else ():
            if isinstance(item, FieldNode):
                count += (item.alias is not None) + self.aliases(item.selection_set)
            elif isinstance(item, InlineFragmentNode):
                count += self.aliases(item.selection_set)
            else:
                assert isinstance(item, FragmentSpreadNode)
                name = item.name.value
                if name not in self._aliases:
                    self._aliases[name] = 0
                    fragment = self.fragments.get(name)
                    if fragment is not None:
                        self._aliases[name] = self.aliases(fragment.selection_set)
                count += self._aliases[name]
        return count


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    *,
    list_size: int,
    max_page_size: int,
) -> tuple[int, GraphQLError | None]:
    """The operation's cost, or the first page-size refusal met on the way. Call it on a
    validated document only (no fragment cycles, known fields), with the variables as
    execution will see them (defaults applied)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0, None
    walker = CostWalker(schema, Shape(document).fragments, variables, list_size, max_page_size)
    return walker.cost(operation.selection_set, root), walker.refusal


class CostWalker:
    """Cost per one resolution of a selection set: each object or list field costs 1 plus
    its children times its page size (or list size). Memoised per fragment."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        list_size: int,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.list_size = list_size
        self.max_page_size = max_page_size
        self.refusal: GraphQLError | None = None
        self._memo: dict[str, int] = {}

    def cost(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        total = 0
        for item in selection_set.selections if selection_set else ():
            if isinstance(item, InlineFragmentNode):
                condition = item.type_condition
                narrowed = (
                    parent if condition is None else self.schema.get_type(condition.name.value)
                )
                total += self.cost(item.selection_set, narrowed)
            elif isinstance(item, FragmentSpreadNode):
                total += self._fragment_cost(item.name.value)
            else:
                assert isinstance(item, FieldNode)
                total += self._field_cost(item, parent)
        return total

    def _fragment_cost(self, name: str) -> int:
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        if name not in self._memo:
            self._memo[name] = 0  # a cycle costs nothing more (validation refuses cycles)
            parent = self.schema.get_type(fragment.type_condition.name.value)
            self._memo[name] = self.cost(fragment.selection_set, parent)
        return self._memo[name]

    def _field_cost(self, field: FieldNode, parent: Any) -> int:
        name = field.name.value
        fields = getattr(parent, "fields", None)
        definition = _META_FIELDS.get(name) or (None if fields is None else fields.get(name))
        if definition is None:
            return 0
        field_type = get_nullable_type(definition.type)
        named = get_named_type(field_type)
        if not is_composite_type(named):
            return 0
        size = self._page_size(field, definition)
        if size is None and is_list_type(field_type):
            in_connection = parent.name.endswith("Connection") and name in ("edges", "nodes")
            size = 1 if in_connection else self.list_size
        return 1 + (1 if size is None else size) * self.cost(field.selection_set, named)

    def _page_size(self, field: FieldNode, definition: Any) -> int | None:
        if "first" not in definition.args:
            return None
        value: Any = definition.args["first"].default_value
        for argument in field.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value, value)
        if not isinstance(value, int) or isinstance(value, bool):
            return self.list_size
        if value > self.max_page_size and self.refusal is None:
            self.refusal = limit_error(
                f"first must be at most {self.max_page_size}.", "PAGE_SIZE_TOO_LARGE", field
            )
        return max(value, 0)
