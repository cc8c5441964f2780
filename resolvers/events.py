"""The fields of BillingEvent and WebhookEndpoint: the objects an event is about, each read
within the event's own account. (`Account.events` and the subscription: event_pages.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import Account as AccountModel
from models import Invoice as InvoiceModel
from models import Payment as PaymentModel
from models import PaymentMethod as PaymentMethodModel
from models import Subscription as SubscriptionModel
from models.events import BillingEvent as BillingEventModel
from models.events import WebhookEndpoint as WebhookEndpointModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from services.errors import BillingError
from services.events import endpoints

if TYPE_CHECKING:
    from schema.types.account import Account
    from schema.types.invoice import Invoice, Payment
    from schema.types.payment_method import PaymentMethod
    from schema.types.plan import Subscription
    from schema.types.usage import Notification


async def event_account(info: Info, event: BillingEventModel) -> Account:
    from schema.types.account import Account

    account = await info.context.loaders.account_by_id.load(event.account_id)
    assert account is not None
    return Account.from_model(account)


async def event_invoice(info: Info, event: BillingEventModel) -> Invoice | None:
    from schema.types.invoice import Invoice

    if event.invoice_id is None:
        return None
    row = await InvoiceModel.get_or_none(id=event.invoice_id, account_id=event.account_id)
    return None if row is None else Invoice.from_model(row)


async def event_payment(info: Info, event: BillingEventModel) -> Payment | None:
    from schema.types.invoice import Payment

    if event.payment_id is None:
        return None
    row = await PaymentModel.get_or_none(id=event.payment_id, account_id=event.account_id)
    return None if row is None else Payment.from_model(row)


async def event_payment_method(info: Info, event: BillingEventModel) -> PaymentMethod | None:
    from schema.types.payment_method import PaymentMethod

    if event.payment_method_id is None:
        return None
    row = await PaymentMethodModel.get_or_none(
        id=event.payment_method_id, account_id=event.account_id
    )
    return None if row is None else PaymentMethod.from_model(row)


async def event_subscription(info: Info, event: BillingEventModel) -> Subscription | None:
    from schema.types.plan import Subscription

    if event.subscription_id is None:
        return None
    row = await SubscriptionModel.get_or_none(id=event.subscription_id, account_id=event.account_id)
    return None if row is None else Subscription.from_model(row)


async def event_notification(info: Info, event: BillingEventModel) -> Notification | None:
    from models import Notification as NotificationModel
    from schema.types.usage import Notification

    if event.notification_id is None:
        return None
    row = (
        await NotificationModel.filter(id=event.notification_id, account_id=event.account_id)
        .select_related("meter")
        .first()
    )
    return None if row is None else Notification.from_model(row)


async def endpoint_account(info: Info, endpoint: WebhookEndpointModel) -> Account | None:
    from schema.types.account import Account

    if endpoint.account_id is None:
        return None
    account = await AccountModel.get_or_none(id=endpoint.account_id)
    return None if account is None else Account.from_model(account)


async def endpoint_delivery_page(
    info: Info, endpoint: WebhookEndpointModel, *, first: int | None, after: str | None
) -> endpoints.DeliveryPage:
    try:
        return await endpoints.list_deliveries(endpoint.id, first=first, after=after)
    except BillingError as exc:
        raise_top_level(exc)
