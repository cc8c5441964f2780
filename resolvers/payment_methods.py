"""Card mutations: decode IDs, call the service, wrap the outcome."""

from __future__ import annotations

import strawberry

from models import Account as AccountModel
from models import PaymentMethod as PaymentMethodModel
from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.ids import decode_id, decode_optional_id, to_global_id
from schema import payloads
from schema.inputs import AccountIdInput, AddPaymentMethodInput, PaymentMethodIdInput
from schema.types.account import Account
from schema.types.common import NextAction
from schema.types.payment_method import PaymentMethod
from services import card_setup, payment_methods
from services.auth import Principal


async def start_payment_method_setup(
    info: Info, input: AccountIdInput
) -> payloads.StartPaymentMethodSetupResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.StartPaymentMethodSetupSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        started = await card_setup.start_setup(ctx, principal, account_id)
        return payloads.StartPaymentMethodSetupSuccess(
            client_secret=started.client_secret,
            setup_intent_id=started.setup_intent_id,
            publishable_key=ctx.provider.publishable_key,
        )

    return await guarded(info, call)


async def add_payment_method(
    info: Info, input: AddPaymentMethodInput
) -> payloads.AddPaymentMethodResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.AddPaymentMethodSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        pm, next_action = await card_setup.add_payment_method(
            ctx,
            principal,
            account_id,
            input.provider_token,
            make_default=bool(input.make_default),
            billing_address=input.billing_address.to_value() if input.billing_address else None,
        )
        return payloads.AddPaymentMethodSuccess(
            payment_method=PaymentMethod.from_model(pm),
            next_action=NextAction.from_value(next_action),
            account=await _account(pm.account_id),
        )

    return await guarded(info, call)


async def confirm_payment_method(
    info: Info, input: PaymentMethodIdInput
) -> payloads.ConfirmPaymentMethodResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.ConfirmPaymentMethodSuccess:
        pm_id = decode_id(input.payment_method_id, "PaymentMethod", field="paymentMethodId")
        pm, next_action = await card_setup.confirm_payment_method(ctx, principal, pm_id)
        return payloads.ConfirmPaymentMethodSuccess(
            payment_method=PaymentMethod.from_model(pm),
            next_action=NextAction.from_value(next_action),
            account=await _account(pm.account_id),
        )

    return await guarded(info, call)


async def make_default(info: Info, input: PaymentMethodIdInput) -> payloads.MakeDefaultResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.MakeDefaultSuccess:
        pm_id = decode_id(input.payment_method_id, "PaymentMethod", field="paymentMethodId")
        account = await payment_methods.make_default(ctx, principal, pm_id)
        pm = await PaymentMethodModel.get(id=pm_id)
        return payloads.MakeDefaultSuccess(
            account=Account.from_model(account), payment_method=PaymentMethod.from_model(pm)
        )

    return await guarded(info, call)


async def delete_payment_method(
    info: Info, input: PaymentMethodIdInput
) -> payloads.DeletePaymentMethodResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.DeletePaymentMethodSuccess:
        pm_id = decode_id(input.payment_method_id, "PaymentMethod", field="paymentMethodId")
        deleted_id, account = await payment_methods.delete_payment_method(ctx, principal, pm_id)
        return payloads.DeletePaymentMethodSuccess(
            deleted_payment_method_id=strawberry.ID(to_global_id("PaymentMethod", deleted_id)),
            account=Account.from_model(account),
        )

    return await guarded(info, call)


async def _account(account_id: int) -> Account:
    return Account.from_model(await AccountModel.get(id=account_id))
