"""Every GraphQL document the billing portal sends is valid against the schema, so the page
cannot drift from the API: a renamed field or a changed input fails here, not in a browser.

The portal keeps its documents in gateway/portal/assets/js/api.js as template literals
(`export const PAY_INVOICE = \\`mutation ...\\``) built from shared pieces (`${ERROR_FIELDS}`);
the other modules call `graphql(token, DOC, ...)` or `mutate(token, DOC, ...)` with them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from schema import schema

JS_DIR = Path(__file__).resolve().parents[2] / "gateway" / "portal" / "assets" / "js"
API_JS = JS_DIR / "api.js"

#: `const NAME = \`...\`` or "..." (optionally exported): documents and the pieces they
#: splice in.
_CONST = re.compile(
    r"""(?:export\s+)?const\s+([A-Z][A-Z0-9_]*)\s*=\s*(?:`([^`]*)`|"([^"\n]*)")""", re.S
)
_SPLICE = re.compile(r"\$\{\s*([A-Z][A-Z0-9_]*)\s*\}")
#: Calls that send a document: graphql(token, DOC, ...) and mutate(token, DOC, ...).
_CALL = re.compile(r"\b(?:graphql|mutate)\(\s*[\w.]+\s*,\s*([A-Za-z_][\w]*)")
_OPERATION = re.compile(r"^\s*(query|mutation|subscription)\b")


def _constants() -> dict[str, str]:
    found = _CONST.findall(API_JS.read_text(encoding="utf-8"))
    raw = {name: template or plain for name, template, plain in found}

    def expand(name: str, seen: tuple[str, ...] = ()) -> str:
        assert name not in seen, f"{name} splices itself in"
        return _SPLICE.sub(lambda m: expand(m.group(1), (*seen, name)), raw[name])

    return {name: expand(name) for name in raw}


def _documents() -> dict[str, str]:
    return {name: text for name, text in _constants().items() if _OPERATION.match(text)}


def test_the_portal_documents_are_found() -> None:
    documents = _documents()

    # the page's two queries and its eight mutations, at least
    assert {"PORTAL_QUERY", "ACCOUNT_QUERY", "PAY_INVOICE", "UPDATE_BILLING_INFO"} <= set(documents)
    assert len(documents) >= 10


def test_every_document_the_portal_sends_is_one_of_them() -> None:
    # given every call that sends a document, in every portal module
    documents = _documents()
    sent = {
        (path.name, name)
        for path in sorted(JS_DIR.glob("*.js"))
        for name in _CALL.findall(path.read_text(encoding="utf-8"))
    }

    # then each sends a document from api.js (its own `query` parameter inside api.js aside)
    assert sent, "no graphql()/mutate() calls found: has the portal's API module moved?"
    unknown = {(file, name) for file, name in sent if name not in documents and name != "query"}
    assert not unknown, f"documents sent that this test cannot check: {sorted(unknown)}"
    # and no module builds a document of its own outside api.js
    for path in JS_DIR.glob("*.js"):
        if path != API_JS:
            found = _CONST.findall(path.read_text(encoding="utf-8"))
            inline = [t for _, t, _ in found if _OPERATION.match(t)]
            assert not inline, f"{path.name} holds a GraphQL document; move it to api.js"


@pytest.mark.parametrize("name", sorted(_documents()))
def test_portal_document_is_valid_against_the_schema(name: str) -> None:
    # given the document as the portal sends it
    document = parse(_documents()[name])

    # when graphql-core validates it against the served schema
    errors = validate(schema._schema, document)

    # then it is valid, and it is one named operation
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1 and operations[0].name is not None, name
