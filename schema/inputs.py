"""Mutation inputs. `accountId` may be left out when the key sees exactly one account."""

from __future__ import annotations

import strawberry

from services.addresses import Address as AddressValue


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2")

    def to_value(self) -> AddressValue:
        return AddressValue(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            country=self.country,
        )


@strawberry.input
class AccountIdInput:
    account_id: strawberry.ID | None = None


@strawberry.input
class AddPaymentMethodInput:
    account_id: strawberry.ID | None = None
    provider_token: str = strawberry.field(
        description="A SetupIntent (seti_...) the browser confirmed, or a payment method (pm_...)."
    )
    make_default: bool | None = False
    billing_address: AddressInput | None = None


@strawberry.input
class PaymentMethodIdInput:
    payment_method_id: strawberry.ID


@strawberry.input
class PaymentIdInput:
    payment_id: strawberry.ID


@strawberry.input
class PayInvoiceInput:
    invoice_id: strawberry.ID
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the account's default card."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Same key, same answer; reuse it when retrying after a timeout."
    )


@strawberry.input(description="Only the parts given change; null clears a part.")
class UpdateBillingInfoInput:
    account_id: strawberry.ID | None = None
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    tax_id: str | None = strawberry.UNSET
