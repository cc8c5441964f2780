"""The account's billing info. Changes reach future invoices only: issued ones keep
the snapshot taken when they were issued."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stdnum import get_cc_module
from stdnum.eu.vat import MEMBER_STATES
from stdnum.exceptions import ValidationError
from tortoise.transactions import in_transaction

from models import Account
from models.events import BillingEventType as EV
from services.access import writable_account
from services.addresses import Address
from services.auth import Principal
from services.errors import InvalidInput
from services.events import log as events
from services.validation import clean_email, clean_text

#: Longest accepted value of each text part (the GraphQL edge checks the same limits).
NAME_LIMIT = 200
TAX_ID_LIMIT = 40
_GENERIC_TAX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,38}[A-Za-z0-9]$")
_UNSET: Any = object()


@dataclass(frozen=True)
class BillingInfo:
    name: str | None
    email: str | None
    address: Address | None
    tax_id: str | None


def billing_info_of(account: Account) -> BillingInfo:
    return BillingInfo(
        name=account.billing_name,
        email=account.billing_email or account.email,
        address=Address.from_columns(account),
        tax_id=account.tax_id,
    )


def billing_snapshot(account: Account) -> dict[str, Any]:
    """What an issued invoice keeps forever (JSON)."""
    info = billing_info_of(account)
    return {
        "name": info.name or account.name,
        "email": info.email,
        "address": info.address.as_dict() if info.address else None,
        "tax_id": info.tax_id,
    }


def snapshot_to_info(snapshot: dict[str, Any] | None) -> BillingInfo:
    snap = snapshot or {}
    address = snap.get("address")
    return BillingInfo(
        name=snap.get("name"),
        email=snap.get("email"),
        address=Address(**address) if address else None,
        tax_id=snap.get("tax_id"),
    )


def clean_tax_id(value: str, country: str | None) -> str:
    """Validate with python-stdnum where it knows the country's VAT format."""
    compact = clean_text(value, max_length=TAX_ID_LIMIT, field="taxId")
    module = get_cc_module(country.lower(), "vat") if country else None
    if module is not None:
        try:
            number = str(module.validate(compact))
        except ValidationError as exc:
            raise InvalidInput(
                f"taxId is not a valid {country} VAT number.", field="taxId"
            ) from exc
        # stdnum's compact form drops the country prefix, but an EU VAT number on an
        # invoice must carry it (Greece's is EL): DE136695976, not 136695976.
        if country and country.lower() in MEMBER_STATES:
            number = ("EL" if country.upper() == "GR" else country.upper()) + number
        return number
    if not _GENERIC_TAX_ID.match(compact):
        raise InvalidInput("taxId has an unexpected format.", field="taxId")
    return compact


async def update_billing_info(
    principal: Principal,
    account_id: int | None,
    *,
    name: str | None = _UNSET,
    email: str | None = _UNSET,
    address: Address | None = _UNSET,
    tax_id: str | None = _UNSET,
    now: datetime | None = None,
) -> Account:
    """Change only the parts given; None clears a part."""
    account = await writable_account(principal, account_id)
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["billing_name"] = (
            clean_text(name or "", max_length=NAME_LIMIT, field="name") or None
        )
    if email is not _UNSET:
        changes["billing_email"] = clean_email(email or "", field="email") or None
    if address is not _UNSET:
        cleaned = address.cleaned("address") if address is not None else Address()
        changes.update(cleaned.columns())
    country = changes.get("address_country", account.address_country)
    if tax_id is not _UNSET:
        changes["tax_id"] = clean_tax_id(tax_id, country) if tax_id and tax_id.strip() else None
    elif account.tax_id and country != account.address_country:
        # The tax ID on file was checked against the old country: a new country must
        # accept it too, or the client sends a new one (or null) in the same call.
        try:
            changes["tax_id"] = clean_tax_id(account.tax_id, country)
        except InvalidInput as exc:
            raise InvalidInput(
                f"The tax ID on file is not valid for {country or 'no country'}: "
                "send taxId (or null to clear it) with the new address.",
                field="taxId",
            ) from exc
    if changes:
        async with in_transaction():
            await Account.filter(id=account.id).update(**changes)
            await events.append(
                EV.BILLING_INFO_UPDATED, account_id=account.id, now=now or datetime.now(UTC)
            )
        await account.refresh_from_db()
    return account
