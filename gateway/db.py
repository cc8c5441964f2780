"""Tortoise ORM wiring: config, app-wide init/close, and the built-in migrations.

Tortoise 1.x keeps its state in a `TortoiseContext` bound to a contextvar. The app
context (`init_db`) is also installed as the process-wide fallback, so Starlette
request tasks find it. Migrations and the model-drift check run in their own
throw-away `TortoiseContext`: `tortoise.migrations.api.migrate` calls
`Tortoise.init`, which would otherwise re-initialise (and close the connections
of) whatever context is current in the caller's task.

Regenerate migrations after changing a model (run from the repository root):

    python -m gateway.db makemigrations [--name NAME] [--empty]

and check that none are missing (exit status 1 when the models drifted):

    python -m gateway.db check
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.writer import (
    MigrationWriter,
    format_migration_name,
    migrations_module_path,
)

from gateway.settings import Settings
from models import MODEL_MODULES

APP_LABEL = "models"
MIGRATIONS_MODULE = "models.migrations"

# URL scheme -> the scheme Tortoise maps to its asyncpg / sqlite backends.
_SCHEMES = {
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgresql+asyncpg": "postgres",
    "asyncpg": "postgres",
}


def _normalize_url(database_url: str) -> str:
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        raise ValueError(
            "unsupported database URL (want sqlite://PATH, sqlite://:memory: "
            f"or postgres://...): {urlsplit(database_url).scheme or database_url!r}"
        )
    return f"{_SCHEMES[scheme.lower()]}://{rest}"


def pooled_url(
    database_url: str, *, min_size: int, max_size: int, statement_cache_size: int
) -> str:
    """A PostgreSQL URL with the pool options Tortoise reads from its query string
    (`minsize`, `maxsize`, `statement_cache_size`); options the URL sets itself win.
    Other URLs come back unchanged."""
    scheme = database_url.partition("://")[0].lower()
    if _SCHEMES.get(scheme) != "postgres":
        return database_url
    if min_size > max_size:
        raise ValueError(
            f"BILLING_DATABASE_POOL_MIN_SIZE ({min_size}) is above "
            f"BILLING_DATABASE_POOL_MAX_SIZE ({max_size})"
        )
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("minsize", str(min_size))
    query.setdefault("maxsize", str(max_size))
    query.setdefault("statement_cache_size", str(statement_cache_size))
    return urlunsplit(parts._replace(query=urlencode(query)))


def settings_url(settings: Settings) -> str:
    """The URL Tortoise opens for these settings: the database URL with the pool options."""
    return pooled_url(
        settings.database_url,
        min_size=settings.database_pool_min_size,
        max_size=settings.database_pool_max_size,
        statement_cache_size=settings.database_statement_cache_size,
    )


#: Query options Tortoise takes for its pool; asyncpg.connect would send them to the server
#: as settings (and PgBouncer refuses unknown startup parameters).
_POOL_OPTIONS = {
    *("minsize", "maxsize", "statement_cache_size", "max_queries"),
    *("max_inactive_connection_lifetime", "max_cached_statement_lifetime"),
    "max_cacheable_statement_size",
}


def listen_url(settings: Settings) -> str:
    """Where the event fanout LISTENs: a direct session, never a transaction pooler; one
    asyncpg connection, so without the pool's options."""
    url = settings.database_listen_url or settings.database_url
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if name not in _POOL_OPTIONS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database: the `models` app with its migrations."""
    return {
        "connections": {"default": _normalize_url(database_url)},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(database_url: str) -> None:
    """Initialise Tortoise for the app, visible from every task (global fallback)."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    """Close the connections of the context `init_db` opened (and drop the fallback)."""
    await Tortoise.close_connections()


@asynccontextmanager
async def db_context(database_url: str) -> AsyncIterator[TortoiseContext]:
    """An isolated Tortoise context for tests and scripts, closed on exit.

    Inside the block the models use this context's connections (a contextvar),
    whatever app context `init_db` installed; the previous context comes back after.
    """
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        yield ctx


async def migrate(database_url: str) -> list[str]:
    """Apply every unapplied migration; return their names (`models.0001_initial`, ...).

    Idempotent: applied migrations are recorded in the `tortoise_migrations` table,
    so a second run applies nothing and returns `[]`. Runs in an isolated
    `TortoiseContext`, so it neither needs nor disturbs an app context.
    """
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    async with TortoiseContext():
        await migrate_api(
            config=tortoise_config(database_url), direction="forward", progress=progress
        )
    return applied


async def _model_changes() -> list[MigrationWriter]:
    """Migrations the autodetector would write (migration state on disk vs. the models)."""
    config = tortoise_config("sqlite://:memory:")  # no connection is opened
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        assert ctx.apps is not None
        return await MigrationAutodetector(ctx.apps, config["apps"]).changes()


async def pending_model_changes() -> list[str]:
    """Model changes that no migration captures yet, one line per operation; [] if none."""
    return [
        f"{writer.app_label}: {operation.describe()}"
        for writer in await _model_changes()
        for operation in writer.operations
    ]


async def makemigrations(name: str | None = None, *, empty: bool = False) -> list[Path]:
    """Write the migration(s) for model changes into `models/migrations/`; return the files.

    `name` replaces the automatic `auto_YYYYMMDD_HHMM` suffix. `empty=True` writes one
    empty migration after the latest, to fill in by hand (e.g. with `ops.RunSQL`),
    whatever the model changes. JSONField's default codecs are left out of the file
    (see `_drop_default_json_codecs`); otherwise it is Tortoise's own output.
    """
    if empty:
        on_disk = sorted(
            path.stem
            for path in migrations_module_path(MIGRATIONS_MODULE).glob("[0-9][0-9][0-9][0-9]_*.py")
        )
        number = int(on_disk[-1][:4]) + 1 if on_disk else 1
        writers = [
            MigrationWriter(
                f"{number:04d}_empty",
                APP_LABEL,
                [],
                dependencies=[(APP_LABEL, on_disk[-1])] if on_disk else [],
                initial=not on_disk,
                migrations_module=MIGRATIONS_MODULE,
            )
        ]
    else:
        writers = await _model_changes()
    paths: list[Path] = []
    for writer in writers:
        if name:
            writer.name = format_migration_name(int(writer.name.split("_", 1)[0]), name)
        path = writer.path()
        path.write_text(_drop_default_json_codecs(writer.as_string()), encoding="utf-8")
        paths.append(path)
    return paths


def _drop_default_json_codecs(source: str) -> str:
    """Drop the default JSONField encoder/decoder the writer spells out.

    With orjson installed the writer emits `from orjson import loads`, which would make
    the migration unimportable where orjson (an optional accelerator) is absent. The
    defaults are not part of the schema, so leaving them out changes nothing.
    """
    source = source.replace(", encoder=JSON_DUMPS", "").replace(", decoder=loads", "")
    lines = source.splitlines(keepends=True)
    unused = {
        "from orjson import loads\n",
        "from json import loads\n",
        "from tortoise.fields.data import JSON_DUMPS\n",
    }
    return "".join(line for line in lines if line not in unused)


async def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.db")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("makemigrations", help="write migrations for model changes")
    make.add_argument("--name", help="migration name suffix instead of auto_<timestamp>")
    make.add_argument("--empty", action="store_true", help="write an empty migration")
    commands.add_parser("check", help="exit 1 if the models have unmigrated changes")
    run = commands.add_parser("migrate", help="apply pending migrations")
    run.add_argument("database_url")
    args = parser.parse_args(argv)

    if args.command == "makemigrations":
        paths = await makemigrations(args.name, empty=args.empty)
        for path in paths:
            print(f"created {path}")
        if not paths:
            print("no changes detected")
        return 0
    if args.command == "check":
        changes = await pending_model_changes()
        for change in changes:
            print(change)
        return 1 if changes else 0
    for applied in await migrate(args.database_url):
        print(f"applied {applied}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
