"""Plan changes, cancellation and card edits: decode IDs, call the service, wrap the outcome."""

from __future__ import annotations

from models import Account as AccountModel
from models import Plan as PlanModel
from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.ids import decode_id, decode_optional_id
from schema import plan_change_payloads as payloads
from schema.inputs import AccountIdInput
from schema.types.account import Account
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Subscription
from schema.types.plan_change import PlanChangePreview
from services import cancellation, card_edits, plan_changes
from services.auth import Principal


async def preview_plan_change(
    info: Info, input: payloads.PlanIdInput
) -> payloads.PreviewPlanChangeResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.PreviewPlanChangeSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        plan_id = decode_id(input.plan_id, "Plan", field="planId")
        quote = await plan_changes.preview_plan_change(ctx, principal, account_id, plan_id)
        plan = await PlanModel.get(id=quote.to_plan_id)
        return payloads.PreviewPlanChangeSuccess(preview=PlanChangePreview.from_quote(quote, plan))

    return await guarded(info, call)


async def change_plan(info: Info, input: payloads.ChangePlanInput) -> payloads.ChangePlanResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.ChangePlanSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        plan_id = decode_id(input.plan_id, "Plan", field="planId")
        pm_id = decode_optional_id(
            input.payment_method_id, "PaymentMethod", field="paymentMethodId"
        )
        outcome = await plan_changes.change_plan(
            ctx,
            principal,
            account_id,
            plan_id,
            input.quote_id,
            payment_method_id=pm_id,
            idempotency_key=input.idempotency_key,
        )
        return payloads.ChangePlanSuccess(
            subscription=Subscription.from_model(outcome.subscription)
            if outcome.subscription
            else None,
            invoice=Invoice.from_model(outcome.invoice) if outcome.invoice else None,
            payment=Payment.from_model(outcome.payment) if outcome.payment else None,
        )

    return await guarded(info, call)


async def cancel_pending_plan_change(
    info: Info, input: AccountIdInput
) -> payloads.SubscriptionChangeResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.SubscriptionChangeSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        sub = await plan_changes.cancel_pending_plan_change(ctx, principal, account_id)
        return payloads.SubscriptionChangeSuccess(subscription=Subscription.from_model(sub))

    return await guarded(info, call)


async def cancel_subscription(
    info: Info, input: payloads.CancelSubscriptionInput
) -> payloads.SubscriptionChangeResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.SubscriptionChangeSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        sub = await cancellation.cancel_subscription(
            ctx, principal, account_id, input.reason, input.comment
        )
        return payloads.SubscriptionChangeSuccess(subscription=Subscription.from_model(sub))

    return await guarded(info, call)


async def resume_subscription(
    info: Info, input: AccountIdInput
) -> payloads.SubscriptionChangeResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.SubscriptionChangeSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        sub = await cancellation.resume_subscription(ctx, principal, account_id)
        return payloads.SubscriptionChangeSuccess(subscription=Subscription.from_model(sub))

    return await guarded(info, call)


async def update_payment_method(
    info: Info, input: payloads.UpdatePaymentMethodInput
) -> payloads.UpdatePaymentMethodResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.UpdatePaymentMethodSuccess:
        pm_id = decode_id(input.payment_method_id, "PaymentMethod", field="paymentMethodId")
        pm = await card_edits.update_payment_method(
            ctx,
            principal,
            pm_id,
            exp_month=input.exp_month,
            exp_year=input.exp_year,
            billing_address=input.billing_address.to_value() if input.billing_address else None,
        )
        account = await AccountModel.get(id=pm.account_id)
        return payloads.UpdatePaymentMethodSuccess(
            payment_method=PaymentMethod.from_model(pm), account=Account.from_model(account)
        )

    return await guarded(info, call)
