"""The one table from service exceptions to GraphQL error types.

A service error that a mutation's union does not list is a bug: it surfaces as a
masked top-level error rather than a wrong type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from graphql import GraphQLError

from models import PaymentMethodStatus
from schema import errors as gql
from schema.types.invoice import Payment
from services import errors as svc
from services.auth import Principal
from services.observability import count_error

T = TypeVar("T")

_TABLE: dict[type[svc.BillingError], type[gql.UserError]] = {
    svc.NotFound: gql.NotFoundError,
    svc.Unauthenticated: gql.UnauthenticatedError,
    svc.PermissionDenied: gql.PermissionDeniedError,
    svc.InvalidInput: gql.InvalidInputError,
    svc.SelfServiceUnavailable: gql.SelfServiceUnavailableError,
    svc.DefaultPaymentMethodRequired: gql.DefaultPaymentMethodRequiredError,
    svc.PaymentMethodRequired: gql.PaymentMethodRequiredError,
    svc.PaymentMethodNotUsable: gql.PaymentMethodNotUsableError,
    svc.InvoiceNotPayable: gql.InvoiceNotPayableError,
    svc.PaymentInProgress: gql.PaymentInProgressError,
    svc.IdempotencyConflict: gql.IdempotencyConflictError,
    svc.PaymentDeclined: gql.PaymentDeclinedError,
    svc.CardDeclined: gql.CardDeclinedError,
    svc.ProviderUnavailable: gql.ProviderUnavailableError,
    svc.OverageNotAvailable: gql.OverageNotAvailableError,
    svc.QuoteExpired: gql.QuoteExpiredError,
    svc.OutstandingBalance: gql.OutstandingBalanceError,
    svc.PlanChangeNotAllowed: gql.PlanChangeNotAllowedError,
}


def to_user_error(exc: svc.BillingError) -> gql.UserError:
    error_type = _TABLE[type(exc)]
    count_error(exc.code, "user")
    common: dict[str, Any] = {
        "code": gql.ErrorCode(exc.code),
        "message": exc.message,
        "field": exc.field,
    }
    if isinstance(exc, svc.PaymentDeclined):
        return gql.PaymentDeclinedError(
            **common, payment=Payment.from_model(exc.payment), decline_code=exc.payment.failure_code
        )
    if isinstance(exc, svc.CardDeclined):
        return gql.CardDeclinedError(**common, decline_code=exc.decline_code)
    if isinstance(exc, svc.PaymentMethodNotUsable):
        status = PaymentMethodStatus(exc.status) if exc.status else None
        return gql.PaymentMethodNotUsableError(**common, payment_method_status=status)
    return error_type(**common)


class ExpectedGraphQLError(GraphQLError):
    """A top-level error that is safe to show (not masked): it carries a code."""


def raise_top_level(exc: svc.BillingError) -> NoReturn:
    """For query fields, where there is no result union: a coded top-level error."""
    extensions: dict[str, Any] = {"code": exc.code}
    if exc.field:
        extensions["field"] = exc.field
    raise ExpectedGraphQLError(exc.message, extensions=extensions) from exc


async def guarded(info: Any, call: Callable[[Principal], Awaitable[T]]) -> T | gql.UserError:
    """Run a mutation body for the authenticated caller; expected refusals become union members."""
    try:
        principal = info.context.require_principal()
        return await call(principal)
    except svc.BillingError as exc:
        return to_user_error(exc)
