"""Text as the billing services accept it: one set of rules for every string that comes in.

Normalised where that is safe (surrounding whitespace stripped, NFC), refused otherwise:

- NUL and every other C0/C1 control (and DEL): PostgreSQL refuses NUL in text, SQLite
  stores it, and none of them belongs in a name, an address or a key;
- bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9): they reorder what is printed
  after them, so a billing name would read reversed on an invoice PDF;
- line and paragraph separators (U+2028/9); in a multi-line field (a comment) only
  newlines and tabs pass, CRLF and CR read as LF;
- invisible format characters (services/invisibles.py): zero-width space, word joiner,
  byte order mark, soft hyphen and the rest of Unicode's format category, except where a
  script or an emoji needs one (a ZWJ inside an emoji sequence or after a virama, a ZWNJ
  between letters, tag characters inside an emoji flag such as England's);
- a value with nothing visible in it (only fillers, variation selectors, ...): it would
  print as a blank name;
- lone surrogates and noncharacters: not text (a PostgreSQL driver cannot encode them);
- values longer than the field's limit.

The GraphQL edge applies these rules to every String and ID input
(resolvers/validation.py); the services apply them again to what they store, for callers
that do not come through GraphQL (the CLI, the seed data, the tests).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from babel import Locale
from babel.core import get_global

from services.errors import InvalidInput
from services.invisibles import has_visible, refused_invisible

#: Bidi formatting characters (Unicode's Bidi_Control property).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Control (Cc), surrogate (Cs), line/paragraph separator (Zl, Zp) categories.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _iso_3166_alpha_2() -> frozenset[str]:
    """ISO 3166-1 alpha-2 *assigned* codes, from CLDR (babel).

    CLDR's two-letter regions are the ISO codes plus some of its own: macro-regions
    (EU, EZ, UN, QO; CLDR gives them no currency of their own), the unknown region ZZ, and
    codes that ISO 3166 only reserves. Taken out by the standard's own rules, not a list
    of countries: the user-assigned ranges (AA, QM-QZ, XA-XZ, ZZ; XK, Kosovo, is one of
    them) and the "exceptionally reserved" codes (ISO 3166-1 section 7.5).
    """
    with_currency = get_global("territory_currencies")
    cldr = {
        code
        for code in Locale("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code in with_currency
    }
    user_assigned = {"AA", "ZZ"} | {f"Q{c}" for c in "MNOPQRSTUVWXYZ"}
    user_assigned |= {f"X{chr(c)}" for c in range(ord("A"), ord("Z") + 1)}
    exceptionally_reserved = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU"}
    exceptionally_reserved |= {"TA", "UK", "UN"}
    return frozenset(cldr - user_assigned - exceptionally_reserved)


COUNTRIES = _iso_3166_alpha_2()


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first character the rules refuse, else None."""
    for char in value:
        if multiline and char in "\n\t":
            continue
        if char in _BIDI_CONTROLS:
            return "a bidirectional control character"
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            return "a control character" if category == "Cc" else "a character that is not text"
        code = ord(char)
        if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
            return "a character that is not text"
    return refused_invisible(value)


def clean_text(value: str, *, max_length: int, field: str, multiline: bool = False) -> str:
    """Stripped, NFC; InvalidInput (naming `field`, never echoing the value) otherwise."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = refused_character(value, multiline=multiline)
    if found is not None:
        raise InvalidInput(f"{field} contains {found}.", field=field)
    cleaned = unicodedata.normalize("NFC", value.strip())
    if cleaned and not has_visible(cleaned):
        raise InvalidInput(
            f"{field} has no visible characters: give one that shows, or leave it empty.",
            field=field,
        )
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters.", field=field)
    return cleaned


def clean_email(value: str, *, field: str) -> str:
    cleaned = clean_text(value, max_length=254, field=field)
    if cleaned and not _EMAIL.fullmatch(cleaned):
        raise InvalidInput(f"{field} is not a valid email address.", field=field)
    return cleaned


def clean_country(value: str, *, field: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; "" stays "" (a cleared part)."""
    cleaned = clean_text(value, max_length=64, field=field).upper()
    if cleaned and cleaned not in COUNTRIES:
        raise InvalidInput(
            f"{field} must be an ISO 3166-1 alpha-2 country code, e.g. US or DE.", field=field
        )
    return cleaned


@dataclass(frozen=True)
class TextRule:
    """How one input field is checked: a length limit and, for some, a format."""

    max_length: int
    check: Callable[[str, str], str] | None = None  # (value, field) -> cleaned value
    multiline: bool = False

    def clean(self, value: str, field: str) -> str:
        cleaned = clean_text(
            value, max_length=self.max_length, field=field, multiline=self.multiline
        )
        return cleaned if self.check is None else self.check(cleaned, field)


def _email(value: str, field: str) -> str:
    return clean_email(value, field=field)


def _country(value: str, field: str) -> str:
    return clean_country(value, field=field)


NAME = TextRule(200)
EMAIL = TextRule(254, _email)
COUNTRY = TextRule(64, _country)  # the code check says what is wrong with "Deutschland"
#: Opaque values the client got from us or the provider: IDs, cursors, tokens, keys.
OPAQUE = TextRule(255)
