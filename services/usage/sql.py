"""The little raw SQL usage needs (multi-row upserts with RETURNING), on both databases.

Tortoise's bulk_create cannot say which rows a conflict skipped; these statements can.
Statements with RETURNING go through `execute_query_dict`: on asyncpg, `execute_query`
runs an INSERT without fetching its rows.
SQLite stores datetimes as `str(datetime)` (what the ORM writes), PostgreSQL natively.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    @classmethod
    def of(cls, conn: BaseDBAsyncClient) -> Dialect:
        return cls(postgres=conn.capabilities.dialect == "postgres")

    def p(self, n: int) -> str:
        """The n-th (1-based) parameter placeholder."""
        return f"${n}" if self.postgres else "?"

    def rows(self, count: int, width: int, *, constants: dict[int, str] | None = None) -> str:
        """`(…), (…)` for a multi-row VALUES of `count` rows of `width` parameters;
        `constants` puts a literal at a column position (0-based) after the parameters."""
        constants = constants or {}
        out, n = [], 0
        for _ in range(count):
            cells = []
            for _ in range(width):
                n += 1
                cells.append(self.p(n))
            for position, literal in sorted(constants.items()):
                cells.insert(position, literal)
            out.append("(" + ", ".join(cells) + ")")
        return ", ".join(out)

    def dt(self, value: datetime) -> datetime | str:
        return value if self.postgres else str(value)


def as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
