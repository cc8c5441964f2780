"""Postal addresses: validated once on the way in, stored as plain columns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from babel import Locale

from services.errors import InvalidInput

_COUNTRIES = frozenset(
    str(code) for code in Locale("en").territories if isinstance(code, str) and len(code) == 2
)
_LIMITS = {"line1": 200, "line2": 200, "city": 100, "state": 100, "postal_code": 20}


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def cleaned(self, field_prefix: str) -> Address:
        """Trimmed, country upper-cased, each part checked; raises InvalidInput."""
        values: dict[str, str | None] = {}
        for f in fields(self):
            raw = getattr(self, f.name)
            value = raw.strip() if isinstance(raw, str) else None
            value = value or None
            limit = _LIMITS.get(f.name)
            if value is not None and limit is not None and len(value) > limit:
                raise InvalidInput(
                    f"{f.name} is longer than {limit} characters.",
                    field=f"{field_prefix}.{_camel(f.name)}",
                )
            values[f.name] = value
        country = values["country"]
        if country is not None:
            country = country.upper()
            if country not in _COUNTRIES:
                raise InvalidInput(
                    "country must be an ISO 3166-1 alpha-2 code, e.g. US or DE.",
                    field=f"{field_prefix}.country",
                )
            values["country"] = country
        return Address(**values)

    def columns(self) -> dict[str, str | None]:
        """As the `address_*` columns of Account and PaymentMethod."""
        return {f"address_{f.name}": getattr(self, f.name) for f in fields(self)}

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_columns(cls, row: Any) -> Address | None:
        values = {f.name: getattr(row, f"address_{f.name}") for f in fields(cls)}
        return cls(**values) if any(values.values()) else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
