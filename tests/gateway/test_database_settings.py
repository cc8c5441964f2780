"""The database settings for production layouts (docs/production.md "Processes and pools"):
pool sizes and asyncpg's statement cache reach Tortoise's pool, and the event fanout
LISTENs on its own direct URL when one is set (PgBouncer in transaction mode)."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import connections

from gateway import app as app_module
from gateway.app import create_app
from gateway.db import db_context, listen_url, pooled_url, settings_url
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool

PG = "postgres://billing:secret@db.internal:6432/billing"


def test_the_pool_options_reach_a_postgres_url() -> None:
    settings = Settings(
        database_url=PG,
        database_pool_min_size=2,
        database_pool_max_size=8,
        database_statement_cache_size=0,
    )

    assert settings_url(settings) == f"{PG}?minsize=2&maxsize=8&statement_cache_size=0"


def test_the_defaults_are_asyncpg_s_and_tortoise_s() -> None:
    assert settings_url(Settings(database_url=PG)) == (
        f"{PG}?minsize=1&maxsize=5&statement_cache_size=100"
    )


def test_options_in_the_url_itself_win() -> None:
    url = pooled_url(f"{PG}?maxsize=3", min_size=1, max_size=20, statement_cache_size=0)
    assert url == f"{PG}?maxsize=3&minsize=1&statement_cache_size=0"


def test_sqlite_urls_are_left_alone() -> None:
    url = "sqlite://var/billing.sqlite3"
    assert pooled_url(url, min_size=1, max_size=5, statement_cache_size=0) == url


def test_a_minimum_above_the_maximum_is_refused() -> None:
    settings = Settings(database_url=PG, database_pool_min_size=6, database_pool_max_size=5)
    with pytest.raises(ValueError, match="MIN_SIZE \\(6\\) is above"):
        settings_url(settings)


def test_the_fanout_listens_on_the_direct_url_when_set() -> None:
    direct = "postgres://billing:secret@db.internal:5432/billing"
    assert listen_url(Settings(database_url=PG)) == PG
    assert listen_url(Settings(database_url=PG, database_listen_url=direct)) == direct
    # never the pooled URL: asyncpg would send Tortoise's options as server settings
    assert "?" not in listen_url(Settings(database_url=PG, database_pool_max_size=9))
    in_url = f"{PG}?sslmode=require&statement_cache_size=0&maxsize=9"
    assert listen_url(Settings(database_url=in_url)) == f"{PG}?sslmode=require"


async def test_the_app_starts_its_fanout_on_the_listen_url(
    services: ServiceContext,
    db: str,
    render_pool: RenderPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an app whose database goes through a pooler and whose LISTEN goes direct
    started: list[Any] = []
    real_start = app_module.start_fanout

    async def recording_start(url: str | None) -> Any:
        started.append(url)
        return await real_start(None)  # no connection to the made-up host

    monkeypatch.setattr(app_module, "start_fanout", recording_start)
    direct = "postgres://billing@db.internal:5432/billing"
    settings = Settings(database_url=db, database_listen_url=direct)
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)

    # when it starts and stops
    async with app.router.lifespan_context(app):
        pass

    # then the fanout was given the direct URL
    assert started == [direct]


@pytest.mark.postgres
@pytest.mark.parametrize(("cache", "prepared"), [(0, 0), (100, 1)])
async def test_statement_cache_size_reaches_the_pool(db: str, cache: int, prepared: int) -> None:
    # given Tortoise opened with these pool settings
    settings = Settings(
        database_url=db, database_pool_max_size=2, database_statement_cache_size=cache
    )
    async with db_context(settings_url(settings)):
        client: Any = connections.get("default")
        async with client.acquire_connection() as conn:
            # when one connection runs the same parameterised query twice
            for _ in range(2):
                await conn.fetchval("SELECT count(*) FROM account WHERE id > $1", 0)
            named = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements")
        pool_max = client._pool.get_max_size()

    # then a named prepared statement outlives the query only with a cache (PgBouncer in
    # transaction mode hands the next query another server connection, where it is missing)
    assert min(named, 1) == prepared
    assert pool_max == 2
