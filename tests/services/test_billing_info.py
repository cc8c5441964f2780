"""Billing info: validated on the way in; issued invoices keep the snapshot taken at issue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Account, InvoiceStatus, PlanTier
from services.addresses import Address
from services.billing_info import billing_info_of, snapshot_to_info, update_billing_info
from services.errors import InvalidInput, NotFound, PermissionDenied, SelfServiceUnavailable
from services.invoices import issue_invoice
from tests.conftest import NOW
from tests.factories import admin_of, make_account, make_invoice, viewer_of
from tests.services.helpers import refused

BERLIN = Address(line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
VALID_DE_VAT = "DE136695976"
BAD_DE_VAT = "DE136695977"  # wrong check digit


async def test_update_name_address_and_tax_id(services):
    account = await make_account()

    updated = await update_billing_info(
        admin_of(account),
        account.id,
        name="  Alice GmbH ",
        email="billing@alice.test",
        address=BERLIN,
        tax_id=VALID_DE_VAT,
    )

    info = billing_info_of(await Account.get(id=account.id))
    assert updated.billing_name == info.name == "Alice GmbH"
    assert info.email == "billing@alice.test"
    assert info.address == BERLIN
    assert info.tax_id == VALID_DE_VAT


async def test_only_the_parts_given_change(services):
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    await update_billing_info(admin_of(account), account.id, name="New Name")

    info = billing_info_of(await Account.get(id=account.id))
    assert info.name == "New Name"
    assert info.address == BERLIN and info.tax_id == VALID_DE_VAT


async def test_none_clears_a_part(services):
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)

    await update_billing_info(admin_of(account), account.id, address=None, tax_id=None)

    info = billing_info_of(await Account.get(id=account.id))
    assert info.address is None and info.tax_id is None


async def test_tax_id_is_checked_against_the_new_country(services):
    account = await make_account()

    await update_billing_info(
        admin_of(account),
        account.id,
        address=Address(line1="1 Main St", country="us"),
        tax_id="12-3456789",
    )

    row = await Account.get(id=account.id)
    assert (row.address_country, row.tax_id) == ("US", "12-3456789")


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("DE", "DE 136 695 976", "DE136695976"),
        ("DE", "136695976", "DE136695976"),
        ("GR", "EL094259216", "EL094259216"),
        ("AT", "ATU13585627", "ATU13585627"),
    ],
)
async def test_eu_vat_is_stored_with_its_country_prefix(services, country, given, stored):
    account = await make_account()

    await update_billing_info(
        admin_of(account), account.id, address=Address(country=country), tax_id=given
    )

    assert (await Account.get(id=account.id)).tax_id == stored


async def test_issued_invoices_keep_their_snapshot_and_new_ones_get_the_new_info(services):
    # given an issued invoice with the old billing info
    account = await make_account(name="Alice Ltd")
    await update_billing_info(admin_of(account), account.id, address=BERLIN, tax_id=VALID_DE_VAT)
    issued = await make_invoice(account)
    old = snapshot_to_info(issued.billing_snapshot)
    assert (old.name, old.address, old.tax_id) == ("Alice Ltd", BERLIN, VALID_DE_VAT)

    # when the billing info changes
    paris = Address(line1="1 Rue de Rivoli", city="Paris", postal_code="75001", country="FR")
    await update_billing_info(
        admin_of(account), account.id, name="Alice SAS", address=paris, tax_id="FR40303265045"
    )

    # then the issued invoice is unchanged
    await issued.refresh_from_db()
    assert snapshot_to_info(issued.billing_snapshot) == old
    # and an invoice issued afterwards carries the new info
    draft = await make_invoice(account, status=InvoiceStatus.DRAFT, period_start=NOW)
    assert draft.billing_snapshot is None
    fresh = await issue_invoice(draft, NOW, due_in=timedelta(days=14))
    new = snapshot_to_info(fresh.billing_snapshot)
    assert (new.name, new.address, new.tax_id) == ("Alice SAS", paris, "FR40303265045")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "two@@example.test"}, "email"),
        ({"name": "x" * 201}, "name"),
        ({"address": Address(country="XX")}, "address.country"),
        ({"address": Address(country="Deutschland")}, "address.country"),
        ({"address": Address(city="c" * 101)}, "address.city"),
        ({"address": BERLIN, "tax_id": BAD_DE_VAT}, "taxId"),
        ({"address": BERLIN, "tax_id": "DE12345"}, "taxId"),
        ({"tax_id": "!"}, "taxId"),
    ],
)
async def test_invalid_input_changes_nothing(services, provider, changes, field):
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, name="Before", email="b@a.test")

    async with refused(provider, InvalidInput) as info:
        await update_billing_info(admin_of(account), account.id, **changes)

    assert info.value.field == field


async def test_bad_vat_for_the_stored_country_changes_nothing(services, provider):
    account = await make_account()
    await update_billing_info(admin_of(account), account.id, address=BERLIN)

    async with refused(provider, InvalidInput) as info:
        await update_billing_info(admin_of(account), account.id, tax_id=BAD_DE_VAT)

    assert info.value.field == "taxId"


async def test_enterprise_has_no_self_service(services, provider):
    account = await make_account(tier=PlanTier.ENTERPRISE)

    async with refused(provider, SelfServiceUnavailable):
        await update_billing_info(admin_of(account), account.id, name="New Name")


async def test_viewer_cannot_change_billing_info(services, provider):
    account = await make_account()

    async with refused(provider, PermissionDenied):
        await update_billing_info(viewer_of(account), account.id, name="New Name")


async def test_another_account_is_not_found(services, provider):
    mine = await make_account("me@example.test")
    theirs = await make_account("them@example.test")

    async with refused(provider, NotFound):
        await update_billing_info(admin_of(mine), theirs.id, name="Hijacked")
