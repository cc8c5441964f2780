"""Postal addresses: validated once on the way in, stored as plain columns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from services.validation import clean_country, clean_text

#: Longest accepted value of each part (the GraphQL edge checks the same limits).
PART_LIMITS = {"line1": 200, "line2": 200, "city": 100, "state": 100, "postal_code": 20}


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def cleaned(self, field_prefix: str) -> Address:
        """Each part checked (services/validation.py), trimmed, country upper-cased;
        raises InvalidInput naming the part."""
        values: dict[str, str | None] = {}
        for f in fields(self):
            raw = getattr(self, f.name)
            field = f"{field_prefix}.{_camel(f.name)}"
            if not isinstance(raw, str):
                values[f.name] = None
            elif f.name == "country":
                values[f.name] = clean_country(raw, field=field) or None
            else:
                values[f.name] = (
                    clean_text(raw, max_length=PART_LIMITS[f.name], field=field) or None
                )
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
