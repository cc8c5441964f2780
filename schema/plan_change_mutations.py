"""The plan-change, cancellation and card-edit mutations (a part of the root Mutation)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import plan_changes
from resolvers.context import Info
from schema import plan_change_payloads as payloads
from schema.inputs import AccountIdInput

_ACCESS = (
    "`UNAUTHENTICATED`: the request carries no valid API key or token.",
    "`INVALID_INPUT`: an argument is malformed; `field` names it.",
    "`NOT_FOUND`: the account or record named does not exist or is not readable by this key.",
    "`PERMISSION_DENIED`: the key may read this account but not change its billing (VIEWER).",
    "`SELF_SERVICE_UNAVAILABLE`: the account is ENTERPRISE; its sales representative "
    "changes its billing.",
)
_PROVIDER = (
    "`PROVIDER_UNAVAILABLE`: the payment provider could not be reached or failed; nothing "
    "was done twice, so the same request can be retried."
)


def _doc(summary: str, *errors: str) -> str:
    lines = "\n".join(f"- {error}" for error in (*_ACCESS, *errors))
    return (
        f"{summary}\n\nExpected refusals come back as a member of the result union "
        f"implementing `UserError` (switch on `__typename` or `code`):\n{lines}"
    )


@strawberry.type(description="Plan changes, cancellation and card edits.")
class PlanChangeMutations:
    @strawberry.mutation(
        description=_doc(
            "Preview a move to another plan before anything happens: when it takes effect "
            "(an upgrade now, a downgrade at the period end), the invoice lines (a credit for "
            "the unused time of the current plan and the new plan's charge, prorated by the "
            "second), the amount due now and the next bill, with a `quoteId` valid 15 minutes "
            "for `changePlan`. Nothing is written but the quote; the provider is not called.",
            "`PLAN_CHANGE_NOT_ALLOWED`: the Enterprise plan is arranged with sales.",
            "`OUTSTANDING_BALANCE`: the subscription is past due; upgrades wait until it is "
            "paid (downgrades do not).",
        )
    )
    async def preview_plan_change(
        self,
        info: Info,
        input: Annotated[
            payloads.PlanIdInput, strawberry.argument(description="The plan to move to.")
        ],
    ) -> payloads.PreviewPlanChangeResult:
        return await plan_changes.preview_plan_change(info, input)

    @strawberry.mutation(
        description=_doc(
            "Make the change a preview quoted, exactly as quoted. An upgrade issues the "
            "preview's invoice and charges `amountDueNow` to the card (3-D Secure: "
            "`payment.nextAction`, then `confirmPayment`); the plan switches once it is paid. "
            "A downgrade is scheduled for the period end (`Subscription.pendingChange`).",
            "`QUOTE_EXPIRED`: the quote expired, was used, is another account's or plan's, or "
            "the subscription changed since; nothing was charged, preview again.",
            "`PLAN_CHANGE_NOT_ALLOWED`: the Enterprise plan is arranged with sales.",
            "`OUTSTANDING_BALANCE`: past due; pay the balance before upgrading.",
            "`PAYMENT_METHOD_REQUIRED`: an upgrade needs a card on file.",
            "`PAYMENT_METHOD_NOT_USABLE`: the card chosen cannot be charged.",
            "`PAYMENT_IN_PROGRESS`: an earlier upgrade's charge is still in flight.",
            "`IDEMPOTENCY_CONFLICT`: the key was used for a different change.",
            "`PAYMENT_DECLINED`: the card was declined; the plan is unchanged and the "
            "upgrade's invoice voided.",
            _PROVIDER,
        )
    )
    async def change_plan(
        self,
        info: Info,
        input: Annotated[
            payloads.ChangePlanInput,
            strawberry.argument(description="The quote to act on, and how to pay for it."),
        ],
    ) -> payloads.ChangePlanResult:
        return await plan_changes.change_plan(info, input)

    @strawberry.mutation(
        description=_doc(
            "Keep the current plan after all: drop the downgrade scheduled for the period end "
            "(nothing happens when none is scheduled)."
        )
    )
    async def cancel_pending_plan_change(
        self,
        info: Info,
        input: Annotated[AccountIdInput, strawberry.argument(description="The account.")],
    ) -> payloads.SubscriptionChangeResult:
        return await plan_changes.cancel_pending_plan_change(info, input)

    @strawberry.mutation(
        description=_doc(
            "Cancel at the end of the current period: paid features stay on until "
            "`currentPeriodEnd`, then the account moves to the Free plan and nothing more is "
            "billed. Works while past due. `resumeSubscription` undoes it before then.",
            "`PLAN_CHANGE_NOT_ALLOWED`: there is no paid subscription to cancel.",
        )
    )
    async def cancel_subscription(
        self,
        info: Info,
        input: Annotated[
            payloads.CancelSubscriptionInput,
            strawberry.argument(description="The reason, and an optional comment."),
        ],
    ) -> payloads.SubscriptionChangeResult:
        return await plan_changes.cancel_subscription(info, input)

    @strawberry.mutation(
        description=_doc(
            "Undo `cancelSubscription` before the period ends: the plan renews as before "
            "(nothing happens when it was not canceled)."
        )
    )
    async def resume_subscription(
        self,
        info: Info,
        input: Annotated[AccountIdInput, strawberry.argument(description="The account.")],
    ) -> payloads.SubscriptionChangeResult:
        return await plan_changes.resume_subscription(info, input)

    @strawberry.mutation(
        description=_doc(
            "Edit a card on file: its expiry and billing address, at the provider and here. "
            "An EXPIRED card given a future expiry is ACTIVE again. A past expiry, a month "
            "outside 1-12 or a country that is not ISO 3166-1 alpha-2 is INVALID_INPUT.",
            "`CARD_DECLINED`: the provider refused the change; nothing changed here.",
            _PROVIDER,
        )
    )
    async def update_payment_method(
        self,
        info: Info,
        input: Annotated[
            payloads.UpdatePaymentMethodInput,
            strawberry.argument(description="The card and what to change on it."),
        ],
    ) -> payloads.UpdatePaymentMethodResult:
        return await plan_changes.update_payment_method(info, input)
