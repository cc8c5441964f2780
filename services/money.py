"""Money as integer minor units plus an ISO 4217 code; formatted only at the edges."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


@dataclass(frozen=True)
class Money:
    amount: int  # minor units (cents for USD, yen for JPY)
    currency: str  # upper-case ISO 4217

    def format(self, locale: str = "en_US") -> str:
        digits = get_currency_precision(self.currency)
        major = Decimal(self.amount).scaleb(-digits)
        return str(format_currency(major, self.currency, locale=locale))
