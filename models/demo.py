"""The demo's own bookkeeping (gateway/demo.py), kept apart from the billing tables."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class DemoSeed(Model):
    """The demo data was seeded completely: written after the last seeding step.

    A run stopped mid-seed leaves demo accounts without this row, and the next run
    removes them and seeds again instead of serving a half-built demo.
    """

    id = fields.IntField(primary_key=True)
    completed_at = fields.DatetimeField()

    class Meta:
        table = "demo_seed"
