"""Rendered PDFs. An issued invoice never changes, so its PDF is rendered once and kept."""

from tortoise import fields
from tortoise.models import Model

from models.invoices import Invoice


class Document(Model):
    """One stored PDF per (invoice, kind, template version). The unique key is the guard
    that makes concurrent first downloads store it once."""

    id = fields.IntField(primary_key=True)
    invoice_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="documents", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)  # "invoice" | "receipt"
    template_version = fields.CharField(max_length=32)
    content = fields.BinaryField()
    sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "document"
        unique_together = (("invoice", "kind", "template_version"),)
