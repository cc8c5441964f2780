"""Mutation inputs. `accountId` may be left out when the key sees exactly one account."""

from __future__ import annotations

import strawberry

from services.addresses import Address as AddressValue


@strawberry.input(
    description=(
        "A postal address. Every part is optional; a part left out or null is stored empty. "
        "Text is trimmed; a part that is too long or malformed answers INVALID_INPUT with "
        "`field` naming it (e.g. `address.postalCode`)."
    )
)
class AddressInput:
    line1: str | None = strawberry.field(default=None, description="Street address.")
    line2: str | None = strawberry.field(default=None, description="Apartment, suite or building.")
    city: str | None = strawberry.field(default=None, description="City or locality.")
    state: str | None = strawberry.field(default=None, description="State, province or region.")
    postal_code: str | None = strawberry.field(default=None, description="Postal or ZIP code.")
    country: str | None = strawberry.field(
        default=None,
        description="Two-letter ISO 3166-1 alpha-2 country code, e.g. US or DE (any case).",
    )

    def to_value(self) -> AddressValue:
        return AddressValue(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            country=self.country,
        )


@strawberry.input(description="Names the account a mutation acts on.")
class AccountIdInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The account to act on. May be left out when the key is for exactly one account; "
            "a key over several accounts must name one (else INVALID_INPUT)."
        ),
    )


@strawberry.input(description="A card the browser collected with the provider's JS, to store.")
class AddPaymentMethodInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The account to act on. May be left out when the key is for exactly one account; "
            "a key over several accounts must name one (else INVALID_INPUT)."
        ),
    )
    provider_token: str = strawberry.field(
        description=(
            "What the provider's JS gave the browser: a confirmed SetupIntent id (`seti_...`, "
            "from `startPaymentMethodSetup`) or a payment method id (`pm_...`). Never a card "
            "number. Sending the same token again answers with the card already stored."
        )
    )
    make_default: bool | None = strawberry.field(
        default=False,
        description=(
            "Make this card the default once it is ACTIVE. The account's first card becomes "
            "the default anyway."
        ),
    )
    billing_address: AddressInput | None = strawberry.field(
        default=None, description="The cardholder's billing address, stored with the card."
    )


@strawberry.input(description="Names a card on file.")
class PaymentMethodIdInput:
    payment_method_id: strawberry.ID = strawberry.field(
        description="The card's `PaymentMethod.id`. Another account's card answers NOT_FOUND."
    )


@strawberry.input(description="Names a payment attempt.")
class PaymentIdInput:
    payment_id: strawberry.ID = strawberry.field(
        description="The attempt's `Payment.id`. Another account's payment answers NOT_FOUND."
    )


@strawberry.input(description="Which invoice to pay, with which card, under which retry key.")
class PayInvoiceInput:
    invoice_id: strawberry.ID = strawberry.field(
        description="The OPEN invoice to pay (`Invoice.id`); its whole `amountDue` is charged."
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The card to charge (`PaymentMethod.id`, must be ACTIVE). Left out: the account's "
            "default card, or PAYMENT_METHOD_REQUIRED when there is none."
        ),
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Your own key for this payment (1 to 128 characters, e.g. a UUID). Sending the "
            "same key again returns the first answer instead of charging twice, or "
            "PAYMENT_IN_PROGRESS while the first request is still running (retry with the "
            "same key); the same key with a different invoice or card answers "
            "IDEMPOTENCY_CONFLICT. Reuse it when retrying after a timeout."
        ),
    )


@strawberry.input(
    description=(
        "New billing details for future invoices. Only the parts given change: leave a "
        "part out to keep it, send null to clear it."
    )
)
class UpdateBillingInfoInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The account to act on. May be left out when the key is for exactly one account; "
            "a key over several accounts must name one (else INVALID_INPUT)."
        ),
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The name invoices are addressed to."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where invoices and receipts are emailed; must be a valid address.",
    )
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The billing address; it replaces the whole stored address.",
    )
    tax_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The tax ID printed on invoices. Checked against the country's VAT format where "
            "it is known (EU numbers carry their country prefix)."
        ),
    )
