"""Limits on hostile queries, checked before anything executes.

`RequestLimits` (a schema extension) reads the per-request `RequestPolicy` from the
context (the gateway builds it from settings and the caller) and:

- caps the tokens the parser reads (graphql-core stops parsing past the cap);
- validates with graphql-core's rules plus depth, alias and introspection rules,
  hiding "Did you mean ...?" suggestions where the policy says so; results are
  cached per (document, rule set), as strawberry's ValidationCache would;
- computes a cost from list sizes: every object or list field costs the number of
  times it may be resolved, i.e. the product of the page sizes (`first`, or its
  default) and, for plain lists, `list_size`, down the tree. `first` above the page
  size limit is refused here too.

Every refusal carries `extensions.code` (one of LIMIT_CODES): the HTTP layer answers
those with 400 whatever media type the client accepts. Introspection fields
(`__schema`, `__type`, ...) are exempt from depth and cost; introspection itself is
on or off per policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
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
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

LIMIT_CODES = frozenset(
    {
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_TOKENS",
        "QUERY_TOO_COSTLY",
        "PAGE_SIZE_TOO_LARGE",
    }
)


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_page_size: int = 100
    max_cost: int = 50_000
    list_size: int = 10  # assumed length of a list without `first`


@dataclass(frozen=True)
class RequestPolicy:
    limits: Limits = Limits()
    introspection: bool = True
    suggestions: bool = True


def _error(message: str, code: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


class _Shape:
    """Depth, aliases and cost of a document, each fragment computed once (memoised), so a
    fragment spread many times over cannot make the analysis itself exponential. A
    fragment cycle reads as too deep (graphql-core's NoFragmentCycles rule names it)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._depths: dict[tuple[str, int], int] = {}
        self._aliases: dict[str, int] = {}

    def depth(self, selection_set: SelectionSetNode | None, budget: int) -> int:
        """The depth, counted no further than budget + 1."""
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
                depth = self._fragment_depth(item.name.value, budget)
            deepest = max(deepest, depth)
            if deepest > budget:
                break
        return deepest

    def _fragment_depth(self, name: str, budget: int) -> int:
        key = (name, budget)
        if key not in self._depths:
            self._depths[key] = budget + 1  # seen again while computing: a cycle
            fragment = self.fragments.get(name)
            nested = None if fragment is None else fragment.selection_set
            self._depths[key] = self.depth(nested, budget)
        return self._depths[key]

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


@cache
def _structure_rules(max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    """Depth and alias rules, one class per limit pair (so validation results cache)."""

    class OperationShapeRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context: ValidationContext = self.context
            shape = _Shape(context.document)
            if shape.depth(node.selection_set, max_depth) > max_depth:
                context.report_error(
                    _error(f"Query is nested deeper than {max_depth} levels.", "QUERY_TOO_DEEP")
                )
            elif shape.aliases(node.selection_set) > max_aliases:
                context.report_error(
                    _error(f"Query uses more than {max_aliases} aliases.", "TOO_MANY_ALIASES")
                )

    return (OperationShapeRule,)


@lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> tuple[int, GraphQLError | None]:
    """The operation's cost, or the first page-size refusal met on the way. Call it on a
    validated document only (no fragment cycles, known fields)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (
            op
            for op in operations
            if operation_name is None or (op.name is not None and op.name.value == operation_name)
        ),
        None,
    )
    root = None if operation is None else schema.get_root_type(operation.operation)
    if operation is None or root is None:
        return 0, None
    walker = _CostWalker(schema, _Shape(document).fragments, variables or {}, limits)
    return walker.cost(operation.selection_set, root), walker.refusal


class _CostWalker:
    """Cost per one resolution of a selection set: each object or list field costs 1 plus
    its children times its page size (or list size). Memoised per fragment."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
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
        definition = None if name.startswith("__") or fields is None else fields.get(name)
        if definition is None:
            return 0
        field_type = get_nullable_type(definition.type)
        named = get_named_type(field_type)
        if not is_composite_type(named):
            return 0
        size = self._page_size(field, definition)
        if size is None and is_list_type(field_type):
            in_connection = parent.name.endswith("Connection") and name in ("edges", "nodes")
            size = 1 if in_connection else self.limits.list_size
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
            return self.limits.list_size
        if value > self.limits.max_page_size and self.refusal is None:
            self.refusal = _error(
                f"first must be at most {self.limits.max_page_size}.",
                "PAGE_SIZE_TOO_LARGE",
                field,
            )
        return max(value, 0)


def _tag_token_error(error: GraphQLError, max_tokens: int) -> None:
    if "tokens" in error.message and "Parsing aborted" in error.message:
        error.message = f"Query has more than {max_tokens} tokens."
        error.extensions = {"code": "TOO_MANY_TOKENS"}


class RequestLimits(SchemaExtension):
    """Applies the context's RequestPolicy (see the module docstring)."""

    def _policy(self) -> RequestPolicy:
        policy = getattr(self.execution_context.context, "request_policy", None)
        return policy if isinstance(policy, RequestPolicy) else RequestPolicy()

    def on_operation(self) -> Iterator[None]:
        # A parse stopped by the token cap gets a clear message and a code. The error
        # comes either as an exception (raised in ParserCache's hook) or in the result.
        max_tokens = self._policy().limits.max_tokens
        try:
            yield
        except GraphQLError as error:
            _tag_token_error(error, max_tokens)
            raise
        for error in self.execution_context.pre_execution_errors or ():
            _tag_token_error(error, max_tokens)

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self._policy().limits.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        policy = self._policy()
        rules = (
            *ctx.validation_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            *_structure_rules(policy.limits.max_depth, policy.limits.max_aliases),
            *(() if policy.introspection else (NoSchemaIntrospectionCustomRule,)),
        )
        assert ctx.graphql_document is not None
        schema = ctx.schema._schema
        errors = list(_validate(schema, ctx.graphql_document, rules, not policy.suggestions))
        if not errors:
            cost, refusal = query_cost(
                schema, ctx.graphql_document, ctx.operation_name, ctx.variables, policy.limits
            )
            if refusal is not None:
                errors = [refusal]
            elif cost > policy.limits.max_cost:
                errors = [
                    _error(
                        f"Query costs more than {policy.limits.max_cost} "
                        "(lists multiply: ask for smaller pages).",
                        "QUERY_TOO_COSTLY",
                    )
                ]
        ctx.pre_execution_errors = errors
        yield
