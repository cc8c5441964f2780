"""Root query fields: viewer, account, node, plans, paymentProvider."""

from __future__ import annotations

import base64
import binascii

from models import Account as AccountModel
from models import Invoice as InvoiceModel
from models import Payment as PaymentModel
from models import PaymentMethod as PaymentMethodModel
from models import PaymentMethodStatus
from models import Plan as PlanModel
from models import Subscription as SubscriptionModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.ids import from_global_id, parse_pk
from schema.types.account import Account
from schema.types.common import Node, PageInfo
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Plan, Subscription
from schema.types.viewer import AccountConnection, AccountEdge, PaymentProviderConfig, Viewer
from services.errors import BillingError, InvalidInput
from services.invoices import MAX_PAGE


def viewer(info: Info) -> Viewer:
    try:
        principal = info.context.require_principal()
    except BillingError as exc:
        raise_top_level(exc)
    return Viewer(role=principal.role, account_ids=principal.account_ids)


async def viewer_account(info: Info, account_ids: frozenset[int]) -> Account | None:
    if len(account_ids) != 1:
        return None
    (account_id,) = account_ids
    model = await info.context.loaders.account_by_id.load(account_id)
    return None if model is None else Account.from_model(model)


async def viewer_accounts(
    info: Info, account_ids: frozenset[int], *, first: int | None, after: str | None
) -> AccountConnection:
    size = 20 if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise_top_level(InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first"))
    query = AccountModel.filter(id__in=list(account_ids)).order_by("id")
    if after:
        try:
            after_id = parse_pk(base64.urlsafe_b64decode(after.encode()).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError, InvalidInput):
            raise_top_level(InvalidInput("Invalid cursor.", field="after"))
        query = query.filter(id__gt=after_id)
    rows = await query.limit(size + 1)
    page = rows[:size]
    for row in page:
        info.context.loaders.account_by_id.prime(row.id, row)
    edges = [
        AccountEdge(
            cursor=base64.urlsafe_b64encode(str(a.id).encode()).decode(), node=Account.from_model(a)
        )
        for a in page
    ]
    return AccountConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=len(account_ids),
    )


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
    visible = list(principal.account_ids)
    if type_name == "Account":
        row = await AccountModel.get_or_none(id=pk, id__in=visible)
        return None if row is None else Account.from_model(row)
    if type_name == "Invoice":
        inv = await InvoiceModel.get_or_none(id=pk, account_id__in=visible)
        return None if inv is None else Invoice.from_model(inv)
    if type_name == "Payment":
        pay = await PaymentModel.get_or_none(id=pk, account_id__in=visible)
        return None if pay is None else Payment.from_model(pay)
    if type_name == "PaymentMethod":
        pm = (
            await PaymentMethodModel.filter(id=pk, account_id__in=visible)
            .exclude(status=PaymentMethodStatus.DELETED)
            .first()
        )
        return None if pm is None else PaymentMethod.from_model(pm)
    if type_name == "Subscription":
        sub = await SubscriptionModel.get_or_none(id=pk, account_id__in=visible)
        return None if sub is None else Subscription.from_model(sub)
    if type_name == "Plan":
        plan = await PlanModel.get_or_none(id=pk)
        return None if plan is None else Plan.from_model(plan)
    return None


async def plans(info: Info) -> list[Plan]:
    return [Plan.from_model(p) for p in await PlanModel.all().order_by("price_amount", "id")]


def payment_provider(info: Info) -> PaymentProviderConfig:
    provider = info.context.services.provider
    return PaymentProviderConfig(
        name=provider.name, publishable_key=provider.publishable_key, js_url=provider.js_url
    )
