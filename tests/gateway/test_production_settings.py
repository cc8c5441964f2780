"""Production refuses to start on any secret whose default is a public development value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.security import PRODUCTION_SECRETS, check_production_settings
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool

ROOT = Path(__file__).resolve().parents[2]

#: What an operator sets: every secret of its own.
REAL = {
    "environment": "production",
    "api_key_pepper": SecretStr("pepper-" + "p" * 32),
    "document_link_secret": SecretStr("links-" + "l" * 32),
    "stripe_api_key": SecretStr("sk_live_" + "k" * 24),
    "stripe_publishable_key": "pk_live_" + "k" * 24,
    "stripe_webhook_secret": SecretStr("whsec_" + "w" * 32),
}
#: The public values a careless production could run on: the defaults, and the
#: development values set explicitly.
PUBLIC = [
    *[(name, None) for name in PRODUCTION_SECRETS],  # None: the field's default
    ("stripe_webhook_secret", SecretStr("whsec_development")),
    ("api_key_pepper", SecretStr("billing-gateway development pepper (not secret)")),
]


def production(**overrides: Any) -> Settings:
    values = {**REAL, **overrides}
    return Settings(**{k: v for k, v in values.items() if v is not None})


def test_every_public_default_is_covered() -> None:
    """A new secret-ish setting with a development default must join PRODUCTION_SECRETS."""
    secrets = {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    }
    assert secrets - {"smtp_password", "metrics_token"} <= set(PRODUCTION_SECRETS)


@pytest.mark.parametrize(("name", "value"), PUBLIC, ids=lambda v: str(v) if v else "default")
async def test_production_refuses_each_public_value(
    name: str, value: Any, services: ServiceContext, db: str, render_pool: RenderPool
) -> None:
    settings = production(**{name: value})  # None: left at its default
    setting = f"BILLING_{name.upper()}"

    with pytest.raises(ValueError, match=setting) as refused:
        check_production_settings(settings)
    assert "\n" not in str(refused.value)

    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    with pytest.raises(ValueError, match=setting):
        async with app.router.lifespan_context(app):
            pass


async def test_production_with_its_own_secrets_starts(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> None:
    settings = production(database_url=db)
    check_production_settings(settings)

    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    async with app.router.lifespan_context(app):
        assert app.state.documents is not None


def test_outside_production_the_defaults_are_fine() -> None:
    check_production_settings(Settings(environment="development"))
    check_production_settings(Settings(environment="demo"))


def test_a_short_link_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="BILLING_DOCUMENT_LINK_SECRET"):
        check_production_settings(production(document_link_secret=SecretStr("short")))


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_cli_refuses_in_one_line_before_touching_anything(command: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env |= {
        "BILLING_ENVIRONMENT": "production",
        "BILLING_API_KEY_PEPPER": "pepper-" + "p" * 32,
        "BILLING_DATABASE_URL": f"sqlite://{tmp_path / 'never.sqlite3'}",
    }
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed argv
        [sys.executable, "-m", "gateway.cli", command],
        cwd=tmp_path,  # no .env file here
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "BILLING_STRIPE_WEBHOOK_SECRET" in lines[0]
    assert "BILLING_DOCUMENT_LINK_SECRET" in lines[0]
    assert "BILLING_API_KEY_PEPPER" not in lines[0]
    assert not (tmp_path / "never.sqlite3").exists()  # refused before migrating
