"""Relay global IDs: base64 of "Type:pk", opaque to clients."""

from __future__ import annotations

import base64
import binascii
import re

from services.errors import InvalidInput, NotFound

#: Primary keys are positive 32-bit integers (Tortoise IntField): anything else in an
#: ID was not made by us, and must not reach the database (SQLite and asyncpg raise
#: on integers out of range, which would surface as an unexpected error).
MAX_PK = 2**31 - 1
_PK = re.compile(r"[1-9][0-9]{0,9}")


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, int]:
    """Split an ID; raise InvalidInput when it is not one of ours."""
    try:
        type_name, _, raw = (
            base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
        )
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Malformed ID.") from exc
    return type_name, parse_pk(raw)


def parse_pk(raw: str) -> int:
    """A primary key as we write it (in IDs and cursors); InvalidInput otherwise."""
    if not _PK.fullmatch(raw) or int(raw) > MAX_PK:
        raise InvalidInput("Malformed ID.")
    return int(raw)


def decode_id(global_id: str, expected: str, *, field: str) -> int:
    """The pk of an ID of type `expected`; other types read as not found."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidInput as exc:
        raise InvalidInput(f"{field} is not a valid ID.", field=field) from exc
    if type_name != expected:
        raise NotFound(field=field)  # worded as any other miss: the type leaks nothing
    return pk


def decode_optional_id(global_id: str | None, expected: str, *, field: str) -> int | None:
    return None if global_id is None else decode_id(global_id, expected, field=field)
