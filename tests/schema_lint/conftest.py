"""A red banner at the end of the run when the schema linter could not run here."""

from __future__ import annotations

from typing import Any

from tests.schema_lint.test_schema_lint import LINTER, NODE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NODE is None or not LINTER.is_file():
        terminalreporter.write_sep(
            "!",
            "SCHEMA LINT SKIPPED: graphql-schema-linter is not installed (make setup)",
            red=True,
            bold=True,
        )
