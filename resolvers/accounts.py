"""Root query fields: viewer, account, node, plans, paymentProvider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from models import Plan as PlanModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.ids import from_global_id
from schema.types.account import Account
from schema.types.common import Node
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Plan, Subscription
from schema.types.usage import Notification
from schema.types.viewer import PaymentProviderConfig, Viewer
from services import access
from services.auth import Principal
from services.errors import BillingError, InvalidInput, NotFound


def viewer(info: Info) -> Viewer:
    try:
        principal = info.context.require_principal()
    except BillingError as exc:
        raise_top_level(exc)
    return Viewer(role=principal.role, account_ids=principal.account_ids)


async def account(info: Info, id: str) -> Account | None:
    node = await resolve_node(info, id)
    return node if isinstance(node, Account) else None


async def resolve_node(info: Info, id: str) -> Node | None:
    """Any object by global ID, scoped to the caller's accounts (others read as null)."""
    try:
        principal = info.context.require_principal()
    except BillingError as exc:
        raise_top_level(exc)
    try:
        type_name, pk = from_global_id(id)
    except InvalidInput:
        return None
    if type_name == "Plan":  # the catalogue is public
        plan = await PlanModel.get_or_none(id=pk)
        return None if plan is None else Plan.from_model(plan)
    lookup = _SCOPED_NODES.get(type_name)
    if lookup is None:
        return None
    try:
        return await lookup(principal, pk)
    except NotFound:  # another account's record reads as null, like a missing one
        return None


async def _account_node(principal: Principal, pk: int) -> Node:
    return Account.from_model(await access.readable_account(principal, pk))


async def _invoice_node(principal: Principal, pk: int) -> Node:
    return Invoice.from_model(await access.scoped_invoice(principal, pk))


async def _payment_node(principal: Principal, pk: int) -> Node:
    return Payment.from_model(await access.scoped_payment(principal, pk))


async def _payment_method_node(principal: Principal, pk: int) -> Node:
    return PaymentMethod.from_model(await access.scoped_payment_method(principal, pk))


async def _subscription_node(principal: Principal, pk: int) -> Node:
    return Subscription.from_model(await access.scoped_subscription(principal, pk))


async def _notification_node(principal: Principal, pk: int) -> Node:
    return Notification.from_model(await access.scoped_notification(principal, pk))


#: Node types behind an account: looked up through services/access.py, the one place
#: that scopes records to the caller.
async def _event_node(principal: Principal, pk: int) -> Node:
    from schema.types.events import BillingEvent
    from services.events import log

    return BillingEvent.from_model(await log.scoped_event(principal, pk))


async def _endpoint_node(principal: Principal, pk: int) -> Node:
    from schema.types.events import WebhookEndpoint
    from services.events import endpoints

    return WebhookEndpoint.from_model(await endpoints.readable_endpoint(principal, pk))


_SCOPED_NODES: dict[str, Callable[[Principal, int], Awaitable[Node]]] = {
    "BillingEvent": _event_node,
    "WebhookEndpoint": _endpoint_node,
    "Account": _account_node,
    "Invoice": _invoice_node,
    "Payment": _payment_node,
    "PaymentMethod": _payment_method_node,
    "Subscription": _subscription_node,
    "Notification": _notification_node,
}


async def plans(info: Info) -> list[Plan]:
    return [Plan.from_model(p) for p in await PlanModel.all().order_by("price_amount", "id")]


def payment_provider(info: Info) -> PaymentProviderConfig:
    provider = info.context.services.provider
    return PaymentProviderConfig(
        name=provider.name, publishable_key=provider.publishable_key, js_url=provider.js_url
    )
