"""Usage metering: ingestion, overage and threshold notifications (see DESIGN.md).

Quantities cross the API as `Decimal`s and are stored as integer millionths of the
meter's unit (`MICROS` per unit), so every sum is exact in SQL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

#: Stored units per unit of a meter: quantities keep six decimal places.
MICROS = 1_000_000
_MICRO = Decimal(1).scaleb(-6)


def to_micros(quantity: Decimal) -> int:
    """An exact quantity → stored micros; raises ValueError past six decimal places."""
    scaled = quantity * MICROS
    if scaled != scaled.to_integral_value():
        raise ValueError("more than six decimal places")
    return int(scaled)


def from_micros(micros: int) -> Decimal:
    """Stored micros → the decimal quantity, without trailing zeros (1000, 12.5, 0.01)."""
    value = (Decimal(micros) * _MICRO).normalize()
    # normalize() writes 1000 as 1E+3: give integers back in plain notation.
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
