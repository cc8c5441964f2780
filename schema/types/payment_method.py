"""A card on file, as the portal shows it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import PaymentMethod as PaymentMethodModel
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import Address, Node
from schema.types.enums import CardFunding, PaymentMethodStatus
from services.addresses import Address as AddressValue
from services.payment_methods import effective_status


@strawberry.type(
    description=(
        "A card on file. Only what is safe to show is stored here (brand, last four digits, "
        "expiry); the card itself stays with the payment provider."
    )
)
class PaymentMethod(Node):
    model: strawberry.Private[PaymentMethodModel]
    brand: str = strawberry.field(
        description="The card network in lower case, e.g. `visa` or `mastercard`; else `unknown`."
    )
    last4: str = strawberry.field(description="The last four digits of the card number.")
    exp_month: int = strawberry.field(description="Expiry month, 1 to 12.")
    exp_year: int = strawberry.field(description="Expiry year, four digits.")
    funding: CardFunding = strawberry.field(
        description="Whether the card is credit, debit or prepaid, as its issuer reports it."
    )
    is_default: bool = strawberry.field(
        description=(
            "True for the account's one default card: renewals charge it, and `payInvoice` "
            "uses it when no card is named."
        )
    )
    created_at: datetime = strawberry.field(description="When the card was added (UTC).")

    @classmethod
    def from_model(cls, pm: PaymentMethodModel) -> PaymentMethod:
        return cls(
            id=strawberry.ID(to_global_id("PaymentMethod", pm.id)),
            model=pm,
            brand=pm.brand,
            last4=pm.last4,
            exp_month=pm.exp_month,
            exp_year=pm.exp_year,
            funding=pm.funding,
            is_default=pm.is_default,
            created_at=pm.created_at,
        )

    @strawberry.field(
        description=(
            "Whether the card can pay now. Only ACTIVE cards can pay or become the default; "
            "EXPIRED follows from the expiry date."
        )
    )
    def status(self, info: Info) -> PaymentMethodStatus:
        return effective_status(self.model, info.context.services.clock.now())

    @strawberry.field(
        description="The cardholder's billing address given with the card; null when none was."
    )
    def billing_address(self) -> Address | None:
        return Address.from_value(AddressValue.from_columns(self.model))
