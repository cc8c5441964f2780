"""Invisible characters in names and other free text (services/validation.py).

Refused: zero-width space, word joiner, byte order mark and the other invisible format
characters, bidi overrides and isolates, tag characters outside an emoji flag, a
zero-width joiner outside an emoji sequence or a conjunct, a zero-width non-joiner
outside a word, and a value with nothing visible left. Passed: the emoji and scripts
that need those characters."""

from __future__ import annotations

import pytest

from models import Account
from services.billing_info import update_billing_info
from services.errors import InvalidInput
from services.validation import clean_text
from tests.factories import admin_of, make_account
from tests.graphql.helpers import db_state

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
TAG_G = "\U000e0067"
CANCEL_TAG = "\U000e007f"

LEGITIMATE = {
    "family emoji (ZWJ between emoji)": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "technologist, skin tone": "\U0001f9d1\U0001f3fd\u200d\U0001f4bb",
    "rainbow flag (VS16 then ZWJ)": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "heart on fire": "\u2764\ufe0f\u200d\U0001f525",
    "England's flag (tag sequence)": f"Team {ENGLAND}",
    "Persian word with ZWNJ": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "Persian name with ZWNJ": "\u0639\u0644\u06cc \u0646\u06cc\u06a9\u200c\u0646\u0627\u0645",
    "Devanagari half form (ZWJ after virama)": "\u0928\u092e\u0938\u094d\u200d\u0924\u0947",
    "Malayalam chillu (ZWJ after virama, word end)": "\u0d05\u0d35\u0d7b \u0d28\u0d4d\u200d",
    "Arabic": "\u0645\u0631\u062d\u0628\u0627",
    "Latin with accents": "Zo\u00eb M\u00fcller-\u00c5str\u00f6m",
}

REFUSED = {
    "zero-width space": ("Al\u200bice", "an invisible formatting character"),
    "word joiner": ("Ali\u2060ce", "an invisible formatting character"),
    "byte order mark": ("\ufeffAlice", "an invisible formatting character"),
    "soft hyphen": ("Ali\u00adce", "an invisible formatting character"),
    "invisible times": ("Alice\u2062Ltd", "an invisible formatting character"),
    "RLO override": ("Alice \u202eDLT", "a bidirectional control character"),
    "LRE embedding": ("\u202aAlice", "a bidirectional control character"),
    "PDF": ("Alice\u202c", "a bidirectional control character"),
    "RLI isolate": ("\u2067Alice\u2069", "a bidirectional control character"),
    "FSI isolate": ("\u2068Alice", "a bidirectional control character"),
    "tag characters hiding text": (f"Alice{TAG_G}{TAG_G}", "a tag character outside"),
    "tags after a letter": (f"a{TAG_G}{CANCEL_TAG}", "a tag character outside"),
    "tag sequence never cancelled": (f"\U0001f3f4{TAG_G}", "a tag character outside"),
    "lone cancel tag": (f"\U0001f3f4{CANCEL_TAG}", "a tag character outside"),
    "ZWJ between Latin letters": ("ad\u200dmin", "a zero-width joiner outside"),
    "ZWJ after an emoji, then a letter": ("\U0001f468\u200dA", "a zero-width joiner outside"),
    "ZWJ leading": ("\u200dAlice", "a zero-width joiner outside"),
    "ZWNJ leading": ("\u200cAlice", "a zero-width non-joiner outside"),
    "ZWNJ before a space": ("Alice\u200c Ltd", "a zero-width non-joiner outside"),
    "ZWNJ between emoji": ("\U0001f468\u200c\U0001f469", "a zero-width non-joiner outside"),
    "Hangul filler only": ("\u3164", "no visible characters"),
    "variation selector only": ("\ufe0f", "no visible characters"),
    "braille blank and CGJ only": ("\u2800\u034f", "no visible characters"),
}


@pytest.mark.parametrize("value", LEGITIMATE.values(), ids=LEGITIMATE.keys())
def test_legitimate_names_pass_unchanged(value: str) -> None:
    assert clean_text(value, max_length=200, field="name") == value


@pytest.mark.parametrize(("value", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_invisible_characters_are_refused_with_the_field(value: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_text(value, max_length=200, field="billingAddress.line1")

    assert info.value.field == "billingAddress.line1"
    assert info.value.message.startswith("billingAddress.line1 ")
    assert reason in info.value.message
    assert "Alice" not in info.value.message  # never echoes the value


def test_an_empty_value_still_clears() -> None:
    assert clean_text("  ", max_length=200, field="name") == ""


@pytest.mark.parametrize(("value", "reason"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_billing_name_with_invisibles_writes_nothing(
    services, provider, value: str, reason: str
) -> None:
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, name="Alice GmbH")
    before = await db_state()

    with pytest.raises(InvalidInput) as info:
        await update_billing_info(admin_of(account), account.id, name=value)

    assert (info.value.field, reason in info.value.message) == ("name", True)
    assert await db_state() == before
    assert (await Account.get(id=account.id)).billing_name == "Alice GmbH"


@pytest.mark.parametrize("value", LEGITIMATE.values(), ids=LEGITIMATE.keys())
async def test_a_legitimate_billing_name_is_stored(services, value: str) -> None:
    account = await make_account()

    await update_billing_info(admin_of(account), account.id, name=value)

    assert (await Account.get(id=account.id)).billing_name == value
