"""The schema is the API reference: `graphql-schema-linter` (npm, pinned by this folder's
package-lock.json) checks the exported SDL for a description on every type, field,
argument, input field and enum value, a reason on every deprecation, and the Relay
connection rules. Any error fails.

Without node the test is skipped loudly; in CI (CI=true) a missing linter fails instead,
so the rule cannot lapse unnoticed. `make setup` installs it (npm ci in this folder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from schema.export import SDL_PATH

LINT_DIR = Path(__file__).resolve().parent
LINTER = LINT_DIR / "node_modules" / "graphql-schema-linter" / "lib" / "cli.js"
NODE = shutil.which("node")
RULES = [
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
    "descriptions-are-capitalized",
    "deprecations-have-a-reason",
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
]


def _linter_command() -> list[str]:
    missing = None
    if NODE is None:
        missing = "NODE IS NOT INSTALLED"
    elif not LINTER.is_file():
        missing = f"graphql-schema-linter is not installed in {LINT_DIR}"
    if missing is None:
        assert NODE is not None
        return [NODE, str(LINTER)]
    message = (
        f"{missing}: the schema linter (descriptions, Relay rules) did NOT run. "
        "Install Node.js and run `make setup` (npm ci in tests/schema_lint)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} It is required in CI.")
    warnings.warn(message, stacklevel=2)
    print(f"\n*** {message} ***\n")
    pytest.skip(message)


def _lint(sdl_path: Path) -> list[dict[str, object]]:
    done = subprocess.run(  # noqa: S603 - node on the pinned linter
        [*_linter_command(), "--format", "json", "--rules", ",".join(RULES), str(sdl_path)],
        cwd=LINT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # exit 0: clean; 1: errors found (reported as JSON); anything else: the linter broke
    assert done.returncode in (0, 1), done.stderr or done.stdout
    errors: list[dict[str, object]] = json.loads(done.stdout)["errors"]
    return errors


def test_exported_sdl_passes_the_description_and_relay_rules() -> None:
    errors = _lint(SDL_PATH)

    report = [f"{e['rule']}: {e['message']}" for e in errors]
    assert not report, f"{len(report)} schema lint error(s):\n" + "\n".join(report)


def test_the_linter_really_checks(tmp_path: Path) -> None:
    # given an SDL with an undescribed field and a PageInfo missing Relay's fields
    bad = tmp_path / "bad.graphql"
    bad.write_text('"""Root."""\ntype Query { """Fine."""\n ok: Int\n bare: Int }\n')

    # when it is linted
    rules = {str(e["rule"]) for e in _lint(bad)}

    # then the description rule fires
    assert "fields-have-descriptions" in rules
