"""The GraphQL schema: `schema` is what the gateway serves and what the SDL is exported from."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from schema.extensions import MaskUnexpectedErrors
from schema.mutation import Mutation
from schema.query import Query
from schema.types.account import Account
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Plan, Subscription

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Account, Invoice, Payment, PaymentMethod, Plan, Subscription],
    extensions=[MaskUnexpectedErrors, ParserCache, ValidationCache],
    config=StrawberryConfig(auto_camel_case=True),
)

__all__ = ["schema"]
