"""The SDL checked in is the SDL the code serves, and it carries DESIGN.md's contract names."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

from schema import schema
from schema.export import REGENERATE, SDL_PATH, render

CONTRACT_QUERY_FIELDS = {"viewer", "account", "node", "plans", "paymentProvider"}
CONTRACT_MUTATIONS = {
    "startPaymentMethodSetup": "StartPaymentMethodSetupResult",
    "addPaymentMethod": "AddPaymentMethodResult",
    "confirmPaymentMethod": "ConfirmPaymentMethodResult",
    "makeDefault": "MakeDefaultResult",
    "deletePaymentMethod": "DeletePaymentMethodResult",
    "payInvoice": "PayInvoiceResult",
    "confirmPayment": "PayInvoiceResult",
    "updateBillingInfo": "UpdateBillingInfoResult",
    "previewPlanChange": "PreviewPlanChangeResult",
    "changePlan": "ChangePlanResult",
    "cancelPendingPlanChange": "SubscriptionChangeResult",
    "cancelSubscription": "SubscriptionChangeResult",
    "resumeSubscription": "SubscriptionChangeResult",
    "updatePaymentMethod": "UpdatePaymentMethodResult",
}
CONTRACT_ERROR_CODES = {
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "INVALID_INPUT",
    "SELF_SERVICE_UNAVAILABLE",
    "DEFAULT_PAYMENT_METHOD_REQUIRED",
    "PAYMENT_METHOD_REQUIRED",
    "PAYMENT_METHOD_NOT_USABLE",
    "INVOICE_NOT_PAYABLE",
    "PAYMENT_DECLINED",
    "IDEMPOTENCY_CONFLICT",
    "PROVIDER_UNAVAILABLE",
    "QUOTE_EXPIRED",
    "OUTSTANDING_BALANCE",
    "PLAN_CHANGE_NOT_ALLOWED",
}
CONTRACT_NODES = {"Account", "Plan", "Subscription", "PaymentMethod", "Invoice", "Payment"}
CONTRACT_SUCCESS_FIELDS = {
    "AddPaymentMethodSuccess": {"paymentMethod", "nextAction"},
    "MakeDefaultSuccess": {"account"},
    "DeletePaymentMethodSuccess": {"deletedPaymentMethodId", "account"},
    "PayInvoiceSuccess": {"invoice", "payment"},
    "StartPaymentMethodSetupSuccess": {"clientSecret"},
    "PreviewPlanChangeSuccess": {"preview"},
    "ChangePlanSuccess": {"subscription", "invoice", "payment"},
    "SubscriptionChangeSuccess": {"subscription"},
    "UpdatePaymentMethodSuccess": {"paymentMethod"},
    "PlanChangePreview": {
        "plan",
        "timing",
        "lines",
        "amountDueNow",
        "nextBillingDate",
        "nextBillingAmount",
        "quoteId",
        "expiresAt",
    },
    "PendingPlanChange": {"plan", "effectiveAt"},
    "Subscription": {"cancelAtPeriodEnd", "cancellationReason", "pendingChange"},
}


def _type(name: str) -> Any:
    named = schema._schema.get_type(name)
    assert named is not None, f"type {name} is missing from the schema"
    return named


def test_checked_in_sdl_is_current() -> None:
    # given the SDL file in the repository
    checked_in = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""

    # when the schema is exported again
    exported = render()

    # then nothing changed
    assert checked_in == exported, (
        f"{SDL_PATH.name} is stale: run `{REGENERATE}` and commit the result."
    )


def test_query_has_the_contract_fields() -> None:
    fields = set(schema._schema.query_type.fields)

    assert CONTRACT_QUERY_FIELDS <= fields


def test_every_contract_mutation_returns_its_result_union() -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None

    for name, result in CONTRACT_MUTATIONS.items():
        assert name in mutation.fields, f"mutation {name} is missing"
        returned = mutation.fields[name].type.of_type  # NonNull(Union)
        assert isinstance(returned, GraphQLUnionType)
        assert returned.name == result


def test_error_code_has_the_contract_values() -> None:
    codes = _type("ErrorCode")

    assert isinstance(codes, GraphQLEnumType)
    assert CONTRACT_ERROR_CODES <= set(codes.values)


def test_user_error_interface_has_code_message_field() -> None:
    user_error = _type("UserError")

    assert isinstance(user_error, GraphQLInterfaceType)
    assert str(user_error.fields["code"].type) == "ErrorCode!"
    assert str(user_error.fields["message"].type) == "String!"
    assert str(user_error.fields["field"].type) == "String"


def test_every_result_union_is_one_success_plus_user_errors() -> None:
    user_error = _type("UserError")

    for result in set(CONTRACT_MUTATIONS.values()):
        union = _type(result)
        assert isinstance(union, GraphQLUnionType)
        successes = [t.name for t in union.types if t.name.endswith("Success")]
        errors = [t for t in union.types if not t.name.endswith("Success")]
        assert len(successes) == 1, (result, successes)
        assert errors, f"{result} lists no error types"
        for error in errors:
            assert user_error in error.interfaces, f"{error.name} in {result} is not a UserError"
            assert error.name.endswith("Error"), error.name


def test_success_types_carry_the_changed_objects() -> None:
    for name, fields in CONTRACT_SUCCESS_FIELDS.items():
        success = _type(name)
        assert isinstance(success, GraphQLObjectType)
        assert fields <= set(success.fields), (name, fields - set(success.fields))


def test_declined_payment_error_carries_the_payment() -> None:
    declined = _type("PaymentDeclinedError")

    assert str(declined.fields["payment"].type) == "Payment!"


def test_node_types_implement_node() -> None:
    node = _type("Node")

    for name in CONTRACT_NODES:
        assert node in _type(name).interfaces, f"{name} does not implement Node"


def test_account_invoices_and_viewer_arguments() -> None:
    invoices = _type("Account").fields["invoices"]
    accounts = _type("Viewer").fields["accounts"]

    assert set(invoices.args) == {"first", "after", "status"}
    assert str(invoices.args["status"].type) == "[InvoiceStatus!]"
    assert set(accounts.args) == {"first", "after"}
    assert {"role", "account", "accounts"} <= set(_type("Viewer").fields)
    assert {"name", "publishableKey", "jsUrl"} <= set(_type("PaymentProviderConfig").fields)
