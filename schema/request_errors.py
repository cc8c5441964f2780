"""Request errors (parse, validation, variables, choice of operation) are the client's:
each gets a code and a message that says what is wrong without quoting what was sent.

graphql-core's messages quote the offending input ('Variable "$input" got invalid value
{...}', 'String cannot represent a non string value: 4242...'), and `str(error)` adds
the query text around the location. Card numbers, names, emails and tax IDs travel in
those values, so:

- variables are coerced here as execution will coerce them (graphql-core's
  `get_variable_values`); on failure the messages are rebuilt from the variable's
  name, the path into it and the schema's type names, never the value;
- literal (validation) and syntax messages are cut before the value they quote.

Codes (`extensions.code`): GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
BAD_USER_INPUT (variables), OPERATION_RESOLUTION_FAILURE (operationName), beside the
query limits' own codes (schema/limits.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableDefinitionNode,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_input_type,
    is_list_type,
    is_non_null_type,
    type_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined
from graphql.utilities import validate_input_value

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
REQUEST_CODES = frozenset({PARSE_FAILED, VALIDATION_FAILED, BAD_USER_INPUT})

MAX_VARIABLE_ERRORS = 20
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_SUGGESTION = re.compile(r" ?Did you mean [_0-9A-Za-z' ,]{1,400}\?")

# graphql-core's input messages, anchored at the start: the groups only ever take
# schema names (types, fields), which come before any quoted input.
_TYPE = r"'(?P<type>[^']{1,200})'"
_PROBLEMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^Expected a value of non-null type {_TYPE} to be provided\."), "required"),
    (re.compile(rf"^Expected value of non-null type {_TYPE} not to be None\."), "null"),
    (re.compile(rf"^Expected value of type {_TYPE} to be an object,"), "object"),
    (
        re.compile(rf"^Expected value of type {_TYPE} to include required field '(?P<field>\w+)',"),
        "missing_field",
    ),
    (
        re.compile(
            rf"^Expected value of type {_TYPE} not to include unknown field '(?P<field>[^']*)'"
            r"(?:\.(?P<hint> Did you mean .*?\?))?(?:,)? [Ff]ound:"
        ),
        "unknown_field",
    ),
    (re.compile(rf"^Within OneOf Input Object type {_TYPE}, exactly one field"), "one_of"),
    (re.compile(r"^(?P<type>\w+) cannot represent (?P<what>[^:]{1,80}?)(?::|\.$)"), "scalar"),
    (re.compile(r"^Enum '(?P<type>\w+)' cannot represent non-\w+ value:"), "enum"),
    (re.compile(r"^Value '.*' does not exist in '(?P<type>\w+)' enum\.(?P<hint>.*)$"), "enum"),
    (re.compile(rf"^Expected value of type {_TYPE}[,;]"), "type"),
]


def problem(message: str) -> str | None:
    """What is wrong with an input value, in words that quote none of it (None: a
    message of a shape not known here)."""
    for pattern, kind in _PROBLEMS:
        match = pattern.match(message)
        if match is None:
            continue
        found = match.groupdict()
        type_name = found.get("type")
        hint = found.get("hint") or ""
        hint = hint if _SUGGESTION.fullmatch(hint) else ""
        if kind == "required":
            return f"a value of type {type_name} is required."
        if kind == "null":
            return f"null is not allowed for {type_name}."
        if kind == "object":
            return f"{type_name} expects an object."
        if kind == "missing_field":
            return f"the required field {found['field']} of {type_name} is missing."
        if kind == "unknown_field":
            field = found["field"]
            named = f"field {field}" if _NAME.fullmatch(field) else "a field"
            return f"{type_name} has no {named}.{hint}"
        if kind == "one_of":
            return f"{type_name} takes exactly one field, and not null."
        if kind == "scalar":
            return f"{type_name} cannot represent {found['what']}."
        if kind == "enum":
            return f"not a value of the enum {type_name}.{hint}"
        return f"expected a value of type {type_name}."
    return None


def _coded(
    message: str, code: str, error: GraphQLError | None = None, node: Any = None
) -> GraphQLError:
    """A fresh error (no original error, nothing of the old message kept)."""
    extensions = {"code": code}
    if error is not None:
        return GraphQLError(
            message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            extensions,
        )
    return GraphQLError(message, node, extensions=extensions)


def validation_error(error: GraphQLError) -> GraphQLError:
    """A validation error with a code; a literal's value cut from its message."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):  # ours (limits), already value-free
        return error
    described = problem(error.message)
    message = error.message if described is None else f"Invalid value: {described}"
    return _coded(message, VALIDATION_FAILED, error)


_TOKEN_VALUE = re.compile(
    r"\b(Int|Float|String|BlockString|Name|Comment) (\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
)


def tag_syntax_error(error: GraphQLError) -> None:
    """In place (the parse error is raised, not returned): a code, and the token's text
    dropped from 'Expected Name, found Int "4242..."'."""
    if (error.extensions or {}).get("code"):
        return
    error.message = _TOKEN_VALUE.sub(r"\1", error.message)
    error.extensions = {"code": PARSE_FAILED}


def select_operation(
    operations: Sequence[OperationDefinitionNode], operation_name: str | None
) -> OperationDefinitionNode | GraphQLError:
    """The operation to run. Several in one document need an operationName: running the
    first (a mutation, perhaps) on a guess is what a client least expects."""
    if operation_name is None:
        if len(operations) > 1:
            return _coded(
                f"The document has {len(operations)} operations: "
                "send operationName to say which one to run.",
                OPERATION_RESOLUTION_FAILURE,
            )
        if operations:
            return operations[0]
        return _coded("The document has no operation to run.", OPERATION_RESOLUTION_FAILURE)
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return _coded(
        "No operation in the document has the name given in operationName.",
        OPERATION_RESOLUTION_FAILURE,
    )


def coerce_variables(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    inputs: dict[str, Any] | None,
    *,
    hide_suggestions: bool,
) -> dict[str, Any] | list[GraphQLError]:
    """The variables as execution will see them (defaults applied), or BAD_USER_INPUT
    errors naming each variable, the path into it and the problem."""
    definitions = operation.variable_definitions or ()
    outcome = get_variable_values(
        schema, definitions, inputs or {}, MAX_VARIABLE_ERRORS, hide_suggestions
    )
    if not isinstance(outcome, list):
        return outcome.coerced
    if any(e.message == "Variable values are nested too deeply." for e in outcome):
        return [_coded("Variable values are nested too deeply.", BAD_USER_INPUT)]
    errors: list[GraphQLError] = []
    for definition in definitions:
        errors += _variable_errors(schema, definition, inputs or {}, hide_suggestions)
    if not errors:  # a failure of a shape not walked above: still say which kind
        errors = [
            _coded(
                "The variables do not match the operation's variable definitions.",
                BAD_USER_INPUT,
            )
        ]
    return errors[:MAX_VARIABLE_ERRORS]


def _variable_errors(
    schema: GraphQLSchema,
    definition: VariableDefinitionNode,
    inputs: dict[str, Any],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    name = definition.variable.name.value
    var_type = type_from_ast(schema, definition.type)
    if var_type is None or not is_input_type(var_type):
        return []  # validation names unknown and output types
    value = inputs.get(name, Undefined)
    if value is Undefined and (definition.default_value or not is_non_null_type(var_type)):
        return []
    errors: list[GraphQLError] = []

    def on_error(error: GraphQLError, path: list[str | int]) -> None:
        where = f"${name}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        if not path and value is Undefined:
            message = f'Variable "{where}" of required type {var_type} was not provided.'
        else:
            described = problem(error.message)
            if described is None:
                described = f"expected a value of type {_type_at(var_type, path)}."
            message = f'Variable "{where}" has an invalid value: {described}'
        errors.append(_coded(message, BAD_USER_INPUT, node=definition))

    validate_input_value(value, var_type, on_error, hide_suggestions)
    return errors


def _type_at(var_type: GraphQLInputType, path: list[str | int]) -> str:
    """The input type at a path into a variable (the schema's name for it)."""
    current: Any = var_type
    for step in path:
        current = get_nullable_type(current)
        if isinstance(step, int) and is_list_type(current):
            current = current.of_type
        elif isinstance(step, str) and is_input_object_type(current):
            current = current.fields[step].type
        else:
            return str(get_named_type(current))
    return str(current)
