"""Limits on hostile queries, checked before anything executes.

`RequestLimits` (a schema extension) reads the per-request `RequestPolicy` from the
context (the gateway builds it from settings and the caller) and:

- parses with a cap on tokens (graphql-core stops parsing past the cap), through a
  cache the HTTP layer shares (it reads the operations of a document before running
  one of them);
- validates with graphql-core's rules plus depth, alias and introspection rules,
  hiding "Did you mean ...?" suggestions where the policy says so; results are
  cached per (document, rule set), as strawberry's ValidationCache would;
- coerces the variables as execution will (defaults applied: a default counts like a
  value sent), refusing bad ones as BAD_USER_INPUT (schema/request_errors.py);
- computes a cost from list sizes: every object or list field costs the number of
  times it may be resolved, i.e. the product of the page sizes (`first`, or its
  default) and, for plain lists, `list_size`, down the tree. `first` above the page
  size limit is refused here too.

Introspection is bounded like the rest: `__schema` and `__type` cost as any field,
aliases count, and their depth has its own limit (`max_introspection_depth`: the
standard introspection query GraphiQL sends is 15 levels deep and costs about 15,000,
so three fit in the budget and a fourth does not).
A batch is checked operation by operation, and its total cost against the same budget
(`batch_cost`, called by the HTTP layer before any operation runs).

Every refusal carries `extensions.code` (one of LIMIT_CODES): the HTTP layer answers
those with 400 whatever media type the client accepts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import orjson
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema._query_shape import Shape, limit_error, operation_cost
from schema.request_errors import (
    coerce_variables,
    select_operation,
    tag_syntax_error,
    validation_error,
)

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
    max_introspection_depth: int = 16
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


@lru_cache(maxsize=128)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """graphql-core's parse with the token cap, cached (a failed parse is not)."""
    return parse(query, max_tokens=max_tokens)


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@cache
def _structure_rules(
    max_depth: int, max_introspection_depth: int, max_aliases: int
) -> tuple[type[ValidationRule], ...]:
    """Depth and alias rules, one class per set of limits (so validation results cache)."""

    class OperationShapeRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context: ValidationContext = self.context
            shape = Shape(context.document)
            if shape.depth(node.selection_set, max_depth) > max_depth:
                context.report_error(
                    limit_error(
                        f"Query is nested deeper than {max_depth} levels.", "QUERY_TOO_DEEP"
                    )
                )
            elif (
                shape.introspection_depth(node.selection_set, max_introspection_depth)
                > max_introspection_depth
            ):
                context.report_error(
                    limit_error(
                        f"Introspection is nested deeper than {max_introspection_depth} levels.",
                        "QUERY_TOO_DEEP",
                    )
                )
            elif shape.aliases(node.selection_set) > max_aliases:
                context.report_error(
                    limit_error(f"Query uses more than {max_aliases} aliases.", "TOO_MANY_ALIASES")
                )

    return (OperationShapeRule,)


@lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


def _rules(
    policy: RequestPolicy, base: Sequence[type[ASTValidationRule]]
) -> tuple[type[ASTValidationRule], ...]:
    limits = policy.limits
    return (
        *base,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
        *_structure_rules(limits.max_depth, limits.max_introspection_depth, limits.max_aliases),
        *(() if policy.introspection else (NoSchemaIntrospectionCustomRule,)),
    )


_PASSED_MAX = 512
# Operations that passed, by the identity of their inputs: parse_document hands out one
# DocumentNode per query text, and hashing a document walks all of it (~120 us for the
# partner query), as does the cost walk. Each entry holds its document, so its id is not
# reused while the entry lives. Refusals are not kept: their errors are mutable objects.
_passed: OrderedDict[tuple[Any, ...], tuple[DocumentNode, int]] = OrderedDict()


def _variables_key(variables: dict[str, Any] | None) -> bytes | None:
    try:
        return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None  # not JSON (a direct schema.execute with Python values): not cached


def check_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    policy: RequestPolicy,
    base_rules: Sequence[type[ASTValidationRule]] = tuple(specified_rules),
) -> tuple[int, list[GraphQLError]]:
    """The operation's cost, and the errors that stop it: validation, variables (coerced
    as execution will coerce them), page sizes, cost. Every error has a code."""
    variables_key = _variables_key(variables)
    key = (id(schema), id(document), operation_name, variables_key, policy, tuple(base_rules))
    hit = _passed.get(key) if variables_key is not None else None
    if hit is not None and hit[0] is document:
        _passed.move_to_end(key)
        return hit[1], []
    cost, errors = _check_operation(schema, document, operation_name, variables, policy, base_rules)
    if not errors and variables_key is not None:
        _passed[key] = (document, cost)
        if len(_passed) > _PASSED_MAX:
            _passed.popitem(last=False)
    return cost, errors


def _check_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    policy: RequestPolicy,
    base_rules: Sequence[type[ASTValidationRule]],
) -> tuple[int, list[GraphQLError]]:
    errors = _validate(schema, document, _rules(policy, base_rules), not policy.suggestions)
    if errors:
        return 0, [validation_error(e) for e in errors]
    operation = select_operation(operations(document), operation_name)
    if isinstance(operation, GraphQLError):
        return 0, [operation]
    coerced = coerce_variables(
        schema, operation, variables, hide_suggestions=not policy.suggestions
    )
    if isinstance(coerced, list):
        return 0, coerced
    limits = policy.limits
    cost, refusal = operation_cost(
        schema,
        document,
        operation,
        coerced,
        list_size=limits.list_size,
        max_page_size=limits.max_page_size,
    )
    if refusal is not None:
        return cost, [refusal]
    if cost > limits.max_cost:
        return cost, [_too_costly(limits.max_cost, "Query")]
    return cost, []


def _too_costly(max_cost: int, what: str) -> GraphQLError:
    return limit_error(
        f"{what} costs more than {max_cost} (lists multiply: ask for smaller pages).",
        "QUERY_TOO_COSTLY",
    )


def batch_cost(
    schema: GraphQLSchema,
    calls: Sequence[tuple[str, str | None, dict[str, Any] | None]],
    policy: RequestPolicy,
) -> GraphQLError | None:
    """A batch's operations (query, operationName, variables) together against the cost
    budget, before any of them runs. One that is refused costs nothing (it will not run)."""
    total = 0
    for query, operation_name, variables in calls:
        try:
            document = parse_document(query, policy.limits.max_tokens)
        except GraphQLError:
            continue
        cost, errors = check_operation(schema, document, operation_name, variables, policy)
        total += 0 if errors else cost
    if total > policy.limits.max_cost:
        return _too_costly(policy.limits.max_cost, "The batch")
    return None


def document_error(query: str, policy: RequestPolicy) -> GraphQLError | None:
    """The coded parse error of `query` (syntax, the token cap), None when it parses."""
    try:
        parse_document(query, policy.limits.max_tokens)
    except GraphQLError as error:
        _tag_parse_error(error, policy.limits.max_tokens)
        return error
    return None


def operation_choice_error(
    query: str, operation_name: str | None, policy: RequestPolicy
) -> GraphQLError | None:
    """A document with several operations and no operationName, or an operationName that
    names none of them (a parse error is left to execution, which answers it)."""
    try:
        document = parse_document(query, policy.limits.max_tokens)
    except GraphQLError:
        return None
    chosen = select_operation(operations(document), operation_name)
    return chosen if isinstance(chosen, GraphQLError) else None


def _tag_parse_error(error: GraphQLError, max_tokens: int) -> None:
    if "tokens" in error.message and "Parsing aborted" in error.message:
        error.message = f"Query has more than {max_tokens} tokens."
        error.extensions = {"code": "TOO_MANY_TOKENS"}
    tag_syntax_error(error)


class RequestLimits(SchemaExtension):
    """Applies the context's RequestPolicy (see the module docstring)."""

    def _policy(self) -> RequestPolicy:
        policy = getattr(self.execution_context.context, "request_policy", None)
        return policy if isinstance(policy, RequestPolicy) else RequestPolicy()

    def on_operation(self) -> Iterator[None]:
        # A parse error gets a code, and the token cap a clear message. The error comes
        # either as an exception (raised in on_parse) or in the result.
        max_tokens = self._policy().limits.max_tokens
        try:
            yield
        except GraphQLError as error:
            if self.execution_context.graphql_document is None:
                _tag_parse_error(error, max_tokens)
            raise
        if self.execution_context.graphql_document is None:
            for returned in self.execution_context.pre_execution_errors or ():
                _tag_parse_error(returned, max_tokens)

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        max_tokens = self._policy().limits.max_tokens
        ctx.parse_options["max_tokens"] = max_tokens
        if ctx.query and ctx.graphql_document is None:
            ctx.graphql_document = parse_document(ctx.query, max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        _, errors = check_operation(
            ctx.schema._schema,
            ctx.graphql_document,
            ctx.operation_name,
            ctx.variables,
            self._policy(),
            ctx.validation_rules,
        )
        ctx.pre_execution_errors = errors
        yield
