"""The served schema keeps every promise of the last released one (schema/released.graphql).

A breaking change (a field, type, argument or enum value removed; a type changed; a
required argument or input field added) fails here. The one exception is the end of a
deprecation: an element that the released contract already marked `@deprecated` may go.
Dangerous changes (an enum value or union member added, a default changed) are printed
for the release notes, never failed: clients must already handle unknown values.
How to cut a release of the schema: docs/schema.md.
"""

from __future__ import annotations

from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from schema import schema
from schema.export import SDL_PATH

RELEASED_PATH = Path(SDL_PATH).with_name("released.graphql")

#: Removals that end a deprecation; the description names "Type.member".
_REMOVALS = {
    BreakingChangeType.FIELD_REMOVED,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
    BreakingChangeType.ARG_REMOVED,
}


def _deprecated_in(released: GraphQLSchema) -> set[str]:
    """Coordinates ('Type.field', 'Enum.VALUE', 'Type.field(arg:)') deprecated in `released`."""
    found: set[str] = set()
    for name, named in released.type_map.items():
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if field.deprecation_reason is not None:
                    found.add(f"{name}.{field_name}")
                found |= {
                    f"{name}.{field_name}({arg_name}:)"
                    for arg_name, arg in field.args.items()
                    if arg.deprecation_reason is not None
                }
        elif isinstance(named, GraphQLInputObjectType):
            found |= {
                f"{name}.{field_name}"
                for field_name, field in named.fields.items()
                if field.deprecation_reason is not None
            }
        elif isinstance(named, GraphQLEnumType):
            found |= {
                f"{name}.{value_name}"
                for value_name, value in named.values.items()
                if value.deprecation_reason is not None
            }
    return found


def _ends_a_deprecation(change: BreakingChange, deprecated: set[str]) -> bool:
    if change.type not in _REMOVALS:
        return False
    # graphql-core words these "Field Type.field was removed.", "Enum value Enum.VALUE was
    # removed.", "Argument Type.field(arg:) was removed.": the coordinate is the last word.
    coordinate = change.description.removesuffix(" was removed.").rsplit(" ", 1)[-1]
    return coordinate in deprecated


def test_released_contract_is_checked_in() -> None:
    assert RELEASED_PATH.is_file(), f"{RELEASED_PATH} is missing: see docs/schema.md"


def test_no_breaking_change_against_the_released_contract() -> None:
    # given the last released contract and the schema the code serves
    released = build_schema(RELEASED_PATH.read_text(encoding="utf-8"))
    current = schema._schema

    # when they are compared
    breaking = find_breaking_changes(released, current)
    dangerous = find_dangerous_changes(released, current)

    # then only removals of already-deprecated elements are breaking
    for change in dangerous:
        print(f"dangerous (not failed): {change.type.name}: {change.description}")
    deprecated = _deprecated_in(released)
    refused = [
        f"{change.type.name}: {change.description}"
        for change in breaking
        if not _ends_a_deprecation(change, deprecated)
    ]
    assert not refused, (
        "breaking changes against schema/released.graphql (deprecate instead; see "
        "docs/schema.md):\n" + "\n".join(refused)
    )


def test_the_guard_refuses_removals_but_lets_deprecated_elements_go() -> None:
    # given a released contract with live and deprecated fields, arguments and enum values
    released = build_schema(
        """
        enum Tier { FREE GOLD @deprecated(reason: "Use PLUS.") PLUS LEGACY }
        type Query {
          kept(first: Int, old: Int @deprecated(reason: "Ignored."), live: Int): Tier
          live: Int
          old: Int @deprecated(reason: "Use kept.")
        }
        """
    )
    current = build_schema("enum Tier { FREE PLUS } type Query { kept(first: Int): Tier }")

    # when the deprecated and the live ones are all removed
    changes = find_breaking_changes(released, current)

    # then only the live ones are refused
    deprecated = _deprecated_in(released)
    refused = sorted(c.description for c in changes if not _ends_a_deprecation(c, deprecated))
    assert refused == [
        "Argument Query.kept(live:) was removed.",
        "Enum value Tier.LEGACY was removed.",
        "Field Query.live was removed.",
    ]
