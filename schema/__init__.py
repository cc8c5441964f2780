"""The GraphQL schema: `schema` is what the gateway serves and what the SDL is exported from."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from schema.executor import PlainFieldsExecutor
from schema.extensions import MaskUnexpectedErrors, log_errors
from schema.limits import RequestLimits
from schema.mutation import Mutation
from schema.observability import OperationMetrics
from schema.query import Query
from schema.subscription import Events
from schema.types.account import Account
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Plan, Subscription
from schema.types.usage import DECIMAL_SCALAR, Decimal
from schema.validation import ValidateInputs


class BillingSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """In place of strawberry's error log (the message and traceback at error level,
        values included): schema/extensions.py's, which never logs a value."""
        log_errors(errors, execution_context)


schema = BillingSchema(
    query=Query,
    mutation=Mutation,
    subscription=Events,
    types=[Account, Invoice, Payment, PaymentMethod, Plan, Subscription],
    # RequestLimits parses and validates (with its own caches) in place of ParserCache and
    # ValidationCache.
    extensions=[MaskUnexpectedErrors, RequestLimits, OperationMetrics, ValidateInputs],
    config=StrawberryConfig(auto_camel_case=True, scalar_map={Decimal: DECIMAL_SCALAR}),
    execution_context_class=PlainFieldsExecutor,
)

__all__ = ["schema"]
