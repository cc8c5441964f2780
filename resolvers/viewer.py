"""The viewer's own fields: its account and the accounts it may read, paged."""

from __future__ import annotations

import base64
import binascii

from models import Account as AccountModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.ids import parse_pk
from schema.types.account import Account, AccountConnection, AccountEdge
from schema.types.common import PageInfo
from services.errors import InvalidInput
from services.invoices import MAX_PAGE


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
    after_id: int | None = None
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
        page_info=PageInfo.of(
            [edge.cursor for edge in edges],
            has_next_page=len(rows) > size,
            # Accounts are in id order: something precedes the cursor when any id is <= it.
            has_previous_page=after_id is not None and min(account_ids, default=0) <= after_id,
        ),
        total_count=len(account_ids),
    )
