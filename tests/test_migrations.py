"""The migrations build the schema the models describe, on SQLite and on PostgreSQL.

Every test works in its own Tortoise context (`gateway.db.migrate` opens and closes
one), so none depends on, or disturbs, an app context another test installed with
`init_db`. They check the database with raw SQL, not the ORM: see `raw_db`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError

from gateway.db import APP_LABEL, migrate, pending_model_changes, tortoise_config

POSTGRES_URL = os.environ.get("BILLING_TEST_POSTGRES_URL")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"
NOW = "2025-01-01 00:00:00+00:00"


def migrations_on_disk() -> list[str]:
    return sorted(
        f"{APP_LABEL}.{path.stem}"
        for path in MIGRATIONS_DIR.glob("*.py")
        if path.stem[0] not in "_~"
    )


async def _scratch_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards."""
    name = f"billing_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(
    params=[
        "sqlite",
        # Neither marked nor named `postgres` (conftest skips that keyword on the SQLite
        # pass): these tests leave the ORM's state alone, so they run on either pass
        # whenever a server is given.
        pytest.param(
            "postgres",
            id="pg",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="BILLING_TEST_POSTGRES_URL not set"),
        ),
    ]
)
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'billing.db'}"
        return
    assert POSTGRES_URL is not None
    async for url in _scratch_postgres_database(POSTGRES_URL):
        yield url


@asynccontextmanager
async def raw_db(database_url: str) -> AsyncIterator[BaseDBAsyncClient]:
    """A connection for raw SQL, in its own context, that leaves the models alone.

    Not `db_context`: initialising connections rebuilds the models' (process-global)
    query metadata and fills Tortoise's process-global INSERT cache for the
    "default" alias with this dialect's SQL, which would break later ORM tests on
    the other backend. With `init_connections=False` neither happens.
    """
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url), init_connections=False)
        yield ctx.db()


async def table_names(conn: BaseDBAsyncClient) -> set[str]:
    if conn.capabilities.dialect == "sqlite":
        _, rows = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row["name"] for row in rows}
    _, rows = await conn.execute_query(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )
    return {row["tablename"] for row in rows}


async def add_account(conn: BaseDBAsyncClient, account_id: int) -> None:
    await conn.execute_query(
        "INSERT INTO account (id, name, email, tier, currency, created_at)"  # noqa: S608
        f" VALUES ({account_id}, 'A', 'a{account_id}@example.test', 'FREE', 'USD', '{NOW}')"
    )


async def add_card(conn: BaseDBAsyncClient, card_id: int, account_id: int, default: bool) -> None:
    """TRUE/FALSE literals: booleans on PostgreSQL, 1/0 on SQLite, as the ORM writes them."""
    await conn.execute_query(
        "INSERT INTO payment_method (id, account_id, provider_id, brand, last4, exp_month,"  # noqa: S608
        " exp_year, funding, status, is_default, make_default_on_confirm, created_at)"
        f" VALUES ({card_id}, {account_id}, 'pm_{card_id}', 'visa', '4242', 12, 2040,"
        f" 'UNKNOWN', 'ACTIVE', {'TRUE' if default else 'FALSE'}, FALSE, '{NOW}')"
    )


async def test_migrate_builds_every_table_once(empty_db_url: str) -> None:
    applied = await migrate(empty_db_url)

    assert applied == migrations_on_disk()
    assert await migrate(empty_db_url) == []  # idempotent: nothing left to apply
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(empty_db_url), init_connections=False)
        assert ctx.apps is not None
        model_tables = {model._meta.db_table for model in ctx.apps[APP_LABEL].values()}
        tables = await table_names(ctx.db())
    assert model_tables | {"tortoise_migrations"} <= tables


async def test_one_default_card_per_account(empty_db_url: str) -> None:
    await migrate(empty_db_url)
    async with raw_db(empty_db_url) as conn:
        await add_account(conn, 1)
        await add_account(conn, 2)

        await add_card(conn, 1, account_id=1, default=False)
        await add_card(conn, 2, account_id=1, default=False)  # any number of non-defaults
        await add_card(conn, 3, account_id=1, default=True)
        await add_card(conn, 4, account_id=2, default=True)  # the guard is per account

        with pytest.raises(IntegrityError):
            await add_card(conn, 5, account_id=1, default=True)
        _, rows = await conn.execute_query(
            "SELECT id FROM payment_method WHERE account_id = 1 AND is_default"
        )
    assert [row["id"] for row in rows] == [3]


async def test_models_have_no_unmigrated_changes() -> None:
    changes = await pending_model_changes()

    assert changes == [], (
        "models changed without a migration; run `python -m gateway.db makemigrations`:\n"
        + "\n".join(changes)
    )


async def test_model_comments_have_no_semicolons() -> None:
    """Tortoise's SQLite migrations split DDL on ';', table and column comments included.

    A model docstring's first line (the table comment) or a field description with a
    ';' makes `migrate` fail on SQLite with a syntax error.
    """
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config("sqlite://:memory:"), init_connections=False)
        assert ctx.apps is not None
        offenders = [
            f"{model.__name__}{'.' + name if name else ''}: {text!r}"
            for model in ctx.apps[APP_LABEL].values()
            for name, text in [
                ("", model._meta.table_description),
                *((n, f.description) for n, f in model._meta.fields_map.items()),
            ]
            if text and ";" in text
        ]
    assert offenders == []
