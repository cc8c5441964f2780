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


@strawberry.type
class PaymentMethod(Node):
    model: strawberry.Private[PaymentMethodModel]
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: CardFunding
    is_default: bool
    created_at: datetime

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

    @strawberry.field
    def status(self, info: Info) -> PaymentMethodStatus:
        return effective_status(self.model, info.context.services.clock.now())

    @strawberry.field
    def billing_address(self) -> Address | None:
        return Address.from_value(AddressValue.from_columns(self.model))
