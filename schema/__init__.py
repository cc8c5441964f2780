"""The GraphQL schema: `schema` is what the gateway serves and what the SDL is exported from."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache
from strawberry.schema.config import StrawberryConfig

from schema.extensions import MaskUnexpectedErrors
from schema.limits import RequestLimits
from schema.mutation import Mutation
from schema.observability import OperationMetrics
from schema.query import Query
from schema.types.account import Account
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Plan, Subscription

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Account, Invoice, Payment, PaymentMethod, Plan, Subscription],
    # RequestLimits validates (with its own cache) in place of ValidationCache; it sets the
    # parser's token cap, so it comes before ParserCache.
    extensions=[MaskUnexpectedErrors, RequestLimits, ParserCache, OperationMetrics],
    config=StrawberryConfig(auto_camel_case=True),
)

__all__ = ["schema"]
