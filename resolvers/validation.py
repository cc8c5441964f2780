"""The rules every String and ID input of the schema passes before any resolver runs.

`clean_arguments` walks a field's coerced arguments along their GraphQL types (input
objects, lists, non-null) and passes every String and ID value through its rule
(`RULES`, else `ID_RULE` or `DEFAULT_RULE`; the checks themselves are
services/validation.py): the value comes back normalised (stripped, NFC) or
InvalidInput names its input path (`billingAddress.country`, `after`). The schema
extension that applies it to every field, and turns a refusal into the right error, is
schema/validation.py.

tests/security/test_string_inputs.py finds every String and ID input from the schema
and fails on one without a rule here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)

from services import validation as text
from services.addresses import PART_LIMITS
from services.billing_info import NAME_LIMIT, TAX_ID_LIMIT
from services.usage.ingest import MAX_ID_LENGTH

#: IDs are ours (base64, ~20 characters): a long one is not.
ID_RULE = text.TextRule(100)
#: Cursors are ours too (base64 of a timestamp and a key).
CURSOR_RULE = text.TextRule(200)
#: Client idempotency keys (the services accept 1 to 128 characters).
IDEMPOTENCY_KEY_RULE = text.TextRule(128)
#: A String input without its own rule (the test suite fails on one).
DEFAULT_RULE = text.TextRule(255)

#: "InputType.field" or "ParentType.field.argument" -> the rule of that String input.
RULES: dict[str, text.TextRule] = {
    "AddressInput.line1": text.TextRule(PART_LIMITS["line1"]),
    "AddressInput.line2": text.TextRule(PART_LIMITS["line2"]),
    "AddressInput.city": text.TextRule(PART_LIMITS["city"]),
    "AddressInput.state": text.TextRule(PART_LIMITS["state"]),
    "AddressInput.postalCode": text.TextRule(PART_LIMITS["postal_code"]),
    "AddressInput.country": text.COUNTRY,
    "AddPaymentMethodInput.providerToken": text.TextRule(255),
    "PayInvoiceInput.idempotencyKey": IDEMPOTENCY_KEY_RULE,
    "ChangePlanInput.idempotencyKey": IDEMPOTENCY_KEY_RULE,
    "ChangePlanInput.quoteId": text.TextRule(64),
    "CancelSubscriptionInput.comment": text.TextRule(500, multiline=True),
    "UpdateBillingInfoInput.name": text.TextRule(NAME_LIMIT),
    "UpdateBillingInfoInput.email": text.EMAIL,
    "UpdateBillingInfoInput.taxId": text.TextRule(TAX_ID_LIMIT),
    "UsageEventInput.id": text.TextRule(MAX_ID_LENGTH),
    "UsageEventInput.meter": text.TextRule(64),
    "Account.invoices.after": CURSOR_RULE,
    "Account.notifications.after": CURSOR_RULE,
    "Account.events.after": CURSOR_RULE,
    "WebhookEndpoint.deliveries.after": CURSOR_RULE,
    "Events.billingEvents.after": CURSOR_RULE,
    "CreateWebhookEndpointInput.url": text.TextRule(2000),
    "Viewer.accounts.after": CURSOR_RULE,
}


def rule_for(key: str, scalar: str) -> text.TextRule:
    """The rule of one String or ID input, by its key in RULES."""
    if key in RULES:
        return RULES[key]
    return ID_RULE if scalar == "ID" else DEFAULT_RULE


def _clean(type_: Any, value: Any, key: str, path: str) -> Any:
    """`value` (coerced for `type_`) with every String and ID in it cleaned."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return _clean(type_.of_type, value, key, path)
    if isinstance(type_, GraphQLList):
        return [_clean(type_.of_type, item, key, f"{path}.{i}") for i, item in enumerate(value)]
    if isinstance(type_, GraphQLInputObjectType):
        fields = type_.fields
        return {
            name: _clean(
                fields[name].type,
                item,
                f"{type_.name}.{name}",
                f"{path}.{name}" if path else name,
            )
            for name, item in value.items()
        }
    if isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        return rule_for(key, type_.name).clean(value, path) if isinstance(value, str) else value
    return value


def clean_arguments(
    parent: str, field: str, args: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """A field's arguments, cleaned; raises InvalidInput naming the input path. A
    mutation's `input` object is its own root: `billingAddress.country`, not `input....`."""
    cleaned = {}
    for name, value in values.items():
        arg_type = args[name].type
        root = name == "input" and isinstance(get_named_type(arg_type), GraphQLInputObjectType)
        cleaned[name] = _clean(arg_type, value, f"{parent}.{field}.{name}", "" if root else name)
    return cleaned
