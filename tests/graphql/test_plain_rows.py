"""Hot read paths build models from plain SQL rows (resolvers/rows.py): the same values,
datetimes included, as Tortoise's own QuerySet gives."""

from __future__ import annotations

from models import Invoice, Payment
from resolvers import loaders
from resolvers.invoice_pages import _fetch, page_key
from tests.bulk import billed_accounts
from tests.conftest import NOW


def _fields(model: object, names: list[str]) -> dict[str, object]:
    return {name: getattr(model, name) for name in names}


async def test_plain_rows_equal_the_querysets_models(db: str) -> None:
    (account,) = await billed_accounts(1, invoices=3, now=NOW)
    _, size, statuses = page_key(account.id, 12, None)

    page = (await _fetch([account.id], size, statuses))[account.id]
    expected = await Invoice.filter(account_id=account.id).order_by("-period_start", "-id")
    ids = [i.id for i in expected]
    payments = [p for group in await loaders._payments(ids) for p in group]
    expected_payments = await Payment.filter(invoice_id__in=ids).order_by("created_at", "id")

    invoice_fields = list(Invoice._meta.fields_db_projection)
    payment_fields = list(Payment._meta.fields_db_projection)
    assert [_fields(i, invoice_fields) for i in page.invoices] == [
        _fields(i, invoice_fields) for i in expected
    ]
    assert payments and sorted(
        (_fields(p, payment_fields) for p in payments), key=lambda f: str(f["id"])
    ) == sorted((_fields(p, payment_fields) for p in expected_payments), key=lambda f: str(f["id"]))
    assert all(p.created_at.tzinfo is not None for p in payments)
