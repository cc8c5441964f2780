"""The root Mutation: each field is one call into resolvers/."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import billing_info, payment_methods, payments, usage
from resolvers.context import Info
from schema import payloads, usage_payloads
from schema.inputs import (
    AccountIdInput,
    AddPaymentMethodInput,
    PayInvoiceInput,
    PaymentIdInput,
    PaymentMethodIdInput,
    UpdateBillingInfoInput,
)
from schema.plan_change_mutations import PlanChangeMutations
from schema.usage_payloads import (
    ReportUsageInput,
    UpdateOverageSettingsInput,
    UpdateUsageNotificationsInput,
)
from schema.webhook_mutations import WebhookMutations


def _doc(summary: str, *errors: str) -> str:
    """A mutation's docs-pane text: what it does, then each error code it may answer."""
    lines = "\n".join(f"- {error}" for error in (*_ACCESS, *errors))
    return (
        f"{summary}\n\nExpected refusals come back as a member of the result union "
        f"implementing `UserError` (switch on `__typename` or `code`):\n{lines}"
    )


#: What every billing mutation may answer before it looks at the request itself.
_ACCESS = (
    "`UNAUTHENTICATED`: the request carries no valid API key or token.",
    "`INVALID_INPUT`: an argument is malformed (e.g. an ID of the wrong type, or no "
    "`accountId` from a key over several accounts); `field` names it.",
    "`NOT_FOUND`: the account or record named does not exist or is not readable by this key.",
    "`PERMISSION_DENIED`: the key may read this account but not change its billing (a "
    "VIEWER key, or a read-only PARTNER key).",
    "`SELF_SERVICE_UNAVAILABLE`: the account is ENTERPRISE; its sales representative "
    "changes its billing.",
)
_PROVIDER = (
    "`PROVIDER_UNAVAILABLE`: the payment provider could not be reached or failed; nothing "
    "was done twice, so the same request can be retried."
)


@strawberry.type(
    description=(
        "Every change a customer can make to their billing. Each mutation takes one `input` "
        "and returns a union: its success type, or an error type implementing `UserError`."
    )
)
class Mutation(PlanChangeMutations, WebhookMutations):
    @strawberry.mutation(
        description=_doc(
            "Begin adding a card (setup first): creates a SetupIntent at the payment provider "
            "and returns its client secret. The browser collects the card with "
            "`stripe.confirmCardSetup(clientSecret)`, which runs 3-D Secure when the bank "
            "asks for it, then calls `addPaymentMethod` with the SetupIntent id.",
            _PROVIDER,
        )
    )
    async def start_payment_method_setup(
        self,
        info: Info,
        input: Annotated[
            AccountIdInput, strawberry.argument(description="The account to add a card to.")
        ],
    ) -> payloads.StartPaymentMethodSetupResult:
        return await payment_methods.start_payment_method_setup(info, input)

    @strawberry.mutation(
        description=_doc(
            "Store a card the browser collected with the provider's JS (a `seti_...` or "
            "`pm_...` token; card numbers never reach this API). The card comes back ACTIVE, "
            "or REQUIRES_ACTION with a `nextAction`: finish 3-D Secure in the browser, then "
            "call `confirmPaymentMethod`. The first card becomes the default.",
            "`CARD_DECLINED`: the card was refused, by its issuer or because it has expired "
            "(`declineCode` says why, e.g. `expired_card`); nothing was stored. Ask for "
            "another card.",
            "`PAYMENT_METHOD_NOT_USABLE` (`paymentMethodStatus` REQUIRES_ACTION): the `seti_...` "
            "setup is not confirmed yet; finish the card form (and 3-D Secure), then call "
            "again. Nothing was stored.",
            _PROVIDER,
        )
    )
    async def add_payment_method(
        self,
        info: Info,
        input: Annotated[
            AddPaymentMethodInput,
            strawberry.argument(
                description="The provider token of the card to store, and how to store it."
            ),
        ],
    ) -> payloads.AddPaymentMethodResult:
        return await payment_methods.add_payment_method(info, input)

    @strawberry.mutation(
        description=_doc(
            "Finish adding a card that was REQUIRES_ACTION, once the customer completed 3-D "
            "Secure in the browser. Returns the card ACTIVE, or still REQUIRES_ACTION with its "
            "`nextAction` if the step is not done yet; a card that is already settled comes "
            "back unchanged.",
            "`CARD_DECLINED`: 3-D Secure failed, the issuer refused the card, or it expired "
            "meanwhile; it was removed.",
            _PROVIDER,
        )
    )
    async def confirm_payment_method(
        self,
        info: Info,
        input: Annotated[
            PaymentMethodIdInput, strawberry.argument(description="The card to act on.")
        ],
    ) -> payloads.ConfirmPaymentMethodResult:
        return await payment_methods.confirm_payment_method(info, input)

    @strawberry.mutation(
        description=_doc(
            "Make a card the account's default: renewals charge it, and `payInvoice` uses "
            "it when no card is named. The previous default stays on file.",
            "`PAYMENT_METHOD_NOT_USABLE`: the card is not ACTIVE (3-D Secure unfinished, or "
            "expired), so it cannot be the default.",
        )
    )
    async def make_default(
        self,
        info: Info,
        input: Annotated[
            PaymentMethodIdInput, strawberry.argument(description="The card to act on.")
        ],
    ) -> payloads.MakeDefaultResult:
        return await payment_methods.make_default(info, input)

    @strawberry.mutation(
        description=_doc(
            "Remove a card from the account and from the payment provider. Past payments "
            "keep showing it, as DELETED.",
            "`DEFAULT_PAYMENT_METHOD_REQUIRED`: the card is the default on a paid tier (make "
            "another card the default first), or it is the last usable card while a paid plan "
            "bills (add another first). FREE accounts may remove any card.",
        )
    )
    async def delete_payment_method(
        self,
        info: Info,
        input: Annotated[
            PaymentMethodIdInput, strawberry.argument(description="The card to act on.")
        ],
    ) -> payloads.DeletePaymentMethodResult:
        return await payment_methods.delete_payment_method(info, input)

    @strawberry.mutation(
        description=_doc(
            "Pay an OPEN invoice's whole `amountDue` with a card, at most once: concurrent "
            "calls make one charge, and an `idempotencyKey` replays the first answer. On "
            "success the invoice is PAID, or the payment is REQUIRES_ACTION with a "
            "`nextAction`: run 3-D Secure in the browser, then call `confirmPayment`.",
            "`PAYMENT_METHOD_REQUIRED`: no card was named and the account has no default card.",
            "`PAYMENT_METHOD_NOT_USABLE`: the card is not ACTIVE (3-D Secure unfinished, or "
            "expired).",
            "`INVOICE_NOT_PAYABLE`: the invoice is not OPEN (draft, paid, void or "
            "uncollectible) or nothing is due on it.",
            "`PAYMENT_IN_PROGRESS`: another attempt on this invoice has not finished (e.g. it "
            "waits for 3-D Secure); finish or retry it later.",
            "`IDEMPOTENCY_CONFLICT`: this `idempotencyKey` was used for a different invoice "
            "or card.",
            "`PAYMENT_DECLINED`: the card was declined; `payment` is the recorded FAILED "
            "attempt and the invoice stays OPEN for another try.",
            _PROVIDER,
        )
    )
    async def pay_invoice(
        self,
        info: Info,
        input: Annotated[
            PayInvoiceInput,
            strawberry.argument(
                description="The invoice to pay, the card and an optional idempotency key."
            ),
        ],
    ) -> payloads.PayInvoiceResult:
        return await payments.pay_invoice(info, input)

    @strawberry.mutation(
        description=_doc(
            "Finish a payment that was REQUIRES_ACTION, once the customer completed 3-D Secure "
            "in the browser: asks the provider how it ended and records it. Returns the "
            "invoice and the payment (SUCCEEDED, or still REQUIRES_ACTION/PROCESSING).",
            "`PAYMENT_IN_PROGRESS`: the payment has not reached the provider yet; try again "
            "shortly.",
            "`PAYMENT_DECLINED`: 3-D Secure failed or the bank declined; `payment` is the "
            "FAILED attempt and the invoice stays OPEN.",
            _PROVIDER,
        )
    )
    async def confirm_payment(
        self,
        info: Info,
        input: Annotated[
            PaymentIdInput, strawberry.argument(description="The payment that needed 3-D Secure.")
        ],
    ) -> payloads.PayInvoiceResult:
        return await payments.confirm_payment(info, input)

    @strawberry.mutation(
        description=_doc(
            "Change the billing details printed on future invoices (name, email, address, "
            "tax ID). Only the parts given change; issued invoices keep the details they were "
            "issued with. Validation failures answer `INVALID_INPUT` with `field` naming the "
            "part (e.g. `taxId`, `address.country`)."
        )
    )
    async def update_billing_info(
        self,
        info: Info,
        input: Annotated[
            UpdateBillingInfoInput,
            strawberry.argument(description="The parts of the billing details to change."),
        ],
    ) -> payloads.UpdateBillingInfoResult:
        return await billing_info.update_billing_info(info, input)

    @strawberry.mutation(
        description=(
            "Record usage events for one account (SERVICE keys only; customer and partner "
            "keys get PERMISSION_DENIED). Each event is ACCEPTED, DUPLICATE (its id was "
            "recorded before; counted once) or REJECTED with a reason; up to 1,000 per call. "
            "For high volume across accounts use `POST /usage/events`."
        )
    )
    async def report_usage(
        self,
        info: Info,
        input: Annotated[
            ReportUsageInput, strawberry.argument(description="The account and its events.")
        ],
    ) -> usage_payloads.ReportUsageResult:
        return await usage.report_usage(info, input)

    @strawberry.mutation(
        description=(
            "Turn overage on or off and set its cap. Turning it on needs a self-service paid "
            "plan (Free: OVERAGE_NOT_AVAILABLE; Enterprise: SELF_SERVICE_UNAVAILABLE) and a "
            "usable card (PAYMENT_METHOD_REQUIRED); a cap below what already accrued this "
            "period is INVALID_INPUT; viewers get PERMISSION_DENIED."
        )
    )
    async def update_overage_settings(
        self,
        info: Info,
        input: Annotated[
            UpdateOverageSettingsInput,
            strawberry.argument(description="The switch and the cap."),
        ],
    ) -> usage_payloads.UpdateOverageSettingsResult:
        return await usage.update_overage_settings(info, input)

    @strawberry.mutation(
        description=(
            "Choose the usage notification thresholds (up to 10 percentages, 1 to 1000) and "
            "whether they are emailed. Viewers get PERMISSION_DENIED."
        )
    )
    async def update_usage_notifications(
        self,
        info: Info,
        input: Annotated[
            UpdateUsageNotificationsInput,
            strawberry.argument(description="The thresholds and the email switch."),
        ],
    ) -> usage_payloads.UpdateUsageNotificationsResult:
        return await usage.update_usage_notifications(info, input)
