"""Text rules (services/validation.py) and where the services apply them: ISO countries,
refused characters, and the tax ID re-checked when the country changes."""

from __future__ import annotations

import pytest

from models import Account
from services.addresses import Address
from services.billing_info import update_billing_info
from services.errors import InvalidInput
from services.validation import COUNTRIES, clean_country, clean_text
from tests.factories import admin_of, make_account
from tests.services.helpers import refused

BERLIN = Address(line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
VALID_DE_VAT = "DE136695976"


def test_countries_are_the_assigned_iso_3166_codes() -> None:
    # ISO 3166-1 has 249 assigned alpha-2 codes
    assert len(COUNTRIES) == 249
    assert {"DE", "US", "FR", "GB", "JP", "BR", "AQ", "SS"} <= COUNTRIES


@pytest.mark.parametrize(
    "code",
    [
        "ZZ",  # unknown region (CLDR), user-assigned (ISO)
        "EU",  # European Union: exceptionally reserved, not a country
        "EZ",  # eurozone
        "UN",  # United Nations
        "QO",  # outlying Oceania (CLDR)
        "XK",  # Kosovo: user-assigned, no ISO code
        "AA",
        "QM",
        "QZ",
        "XA",
        "XZ",
        "UK",  # exceptionally reserved: the code is GB
        "AC",
        "IC",
        "TA",
        "SU",  # withdrawn
        "YU",
        "XX",
        "D",
        "DEU",
    ],
)
def test_codes_that_are_not_assigned_countries_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_country(code, field="address.country")

    assert info.value.field == "address.country"


def test_a_country_is_trimmed_and_upper_cased() -> None:
    assert clean_country(" de ", field="country") == "DE"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Alice\x00", "a control character"),
        ("Alice\x07", "a control character"),
        ("Alice\x7f", "a control character"),
        ("Alice\x9b", "a control character"),
        ("Alice\nLtd", "a control character"),
        ("Alice \u202eDLT", "a bidirectional control character"),
        ("\u200fAlice", "a bidirectional control character"),
        ("\u061cAlice", "a bidirectional control character"),
        ("\u2066Alice\u2069", "a bidirectional control character"),
        ("Alice\u2028Ltd", "a character that is not text"),
        ("Alice\ud800", "a character that is not text"),
        ("Alice\ufffe", "a character that is not text"),
    ],
)
def test_refused_characters_name_the_field_and_never_echo_the_value(
    value: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_text(value, max_length=200, field="name")

    assert info.value.message == f"name contains {reason}."
    assert "Alice" not in info.value.message


def test_text_is_trimmed_and_nfc_normalised() -> None:
    decomposed = "  Cafe\u0301 Mu\u0308ller  "

    assert clean_text(decomposed, max_length=200, field="name") == "Caf\u00e9 M\u00fcller"


def test_letters_of_every_script_and_joiners_pass() -> None:
    for value in (
        "\u05e9\u05dc\u05d5\u05dd",
        "\u0645\u0631\u062d\u0628\u0627",
        "\u0928\u092e\u0938\u094d\u200d\u0924\u0947",
        "\U0001f469\u200d\U0001f4bb",
    ):
        assert clean_text(value, max_length=200, field="name") == value


def test_a_multiline_field_keeps_newlines_and_refuses_other_controls() -> None:
    assert clean_text("a\r\nb\tc", max_length=10, field="comment", multiline=True) == "a\nb\tc"
    with pytest.raises(InvalidInput):
        clean_text("a\x1bb", max_length=10, field="comment", multiline=True)


async def test_billing_name_with_a_bidi_override_changes_nothing(services, provider) -> None:
    account = await make_account()

    async with refused(provider, InvalidInput) as info:
        await update_billing_info(admin_of(account), account.id, name="Alice \u202eDLT")

    assert info.value.field == "name"


async def test_nul_in_an_address_line_changes_nothing(services, provider) -> None:
    account = await make_account()

    async with refused(provider, InvalidInput) as info:
        await update_billing_info(
            admin_of(account), account.id, address=Address(line1="1 Main\x00St", country="US")
        )

    assert info.value.field == "address.line1"


async def test_a_new_country_re_checks_the_tax_id_on_file(services, provider) -> None:
    # given a German VAT number checked against Germany
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    # when only the country changes, to one whose VAT format it does not match
    async with refused(provider, InvalidInput) as info:
        await update_billing_info(
            admin_of(account), account.id, address=Address(city="Paris", country="FR")
        )

    # then it is refused, naming the tax ID, and nothing changed
    assert info.value.field == "taxId"
    assert "tax ID on file" in info.value.message


async def test_a_new_country_with_a_new_tax_id_is_accepted(services) -> None:
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    await update_billing_info(
        admin_of(account),
        account.id,
        address=Address(city="Paris", country="FR"),
        tax_id="FR40303265045",
    )

    row = await Account.get(id=account.id)
    assert (row.address_country, row.tax_id) == ("FR", "FR40303265045")


async def test_a_new_country_with_the_tax_id_cleared_is_accepted(services) -> None:
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    await update_billing_info(
        admin_of(account), account.id, address=Address(country="FR"), tax_id=None
    )

    row = await Account.get(id=account.id)
    assert (row.address_country, row.tax_id) == ("FR", None)


async def test_an_address_change_in_the_same_country_keeps_the_tax_id(services) -> None:
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    await update_billing_info(
        admin_of(account), account.id, address=Address(city="Hamburg", country="DE")
    )

    row = await Account.get(id=account.id)
    assert (row.address_city, row.tax_id) == ("Hamburg", VALID_DE_VAT)
