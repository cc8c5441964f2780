"""`billing-gateway trusted-documents`: write the portal's trusted-documents manifest.

    billing-gateway trusted-documents            # writes gateway/portal/trusted-documents.json
    billing-gateway trusted-documents --check    # exit 1 when that file is out of date
    billing-gateway trusted-documents --output build/manifest.json

The portal keeps its GraphQL documents in gateway/portal/assets/js/api.js as string
constants, some built from shared pieces (`${ERROR_FIELDS}`). The manifest holds each
document exactly as the browser sends it (the pieces spliced in as JavaScript does), so a
portal running under `BILLING_TRUSTED_DOCUMENTS=require` sends only listed texts.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import orjson
from graphql import OperationDefinitionNode, parse

from gateway.settings import Settings
from gateway.trusted import MANIFEST_FORMAT, PORTAL_MANIFEST, sha256

PORTAL_API_JS = Path(__file__).resolve().parent / "portal" / "assets" / "js" / "api.js"

_CONSTANT = re.compile(
    r"""(?:export\s+)?const\s+([A-Z][A-Z0-9_]*)\s*=\s*(?:`([^`]*)`|"([^"\n]*)")""", re.S
)
_PLACEHOLDER = re.compile(r"\$\{\s*([^}]*?)\s*\}")
_OPERATION = re.compile(r"\s*(query|mutation|subscription)\b")


def portal_documents(source: Path = PORTAL_API_JS) -> dict[str, str]:
    """The operations api.js defines, by constant name, as the browser's strings."""
    raw = {name: tpl or plain for name, tpl, plain in _CONSTANT.findall(source.read_text())}

    def value(name: str, chain: tuple[str, ...] = ()) -> str:
        if name not in raw or name in chain:
            raise ValueError(f"api.js: {name} is not a constant this command can expand")
        text = raw[name]
        if "\\" in text:  # an escape would change the runtime string; none are used
            raise ValueError(f"api.js: {name} holds a backslash escape")
        return _PLACEHOLDER.sub(lambda m: value(m.group(1), (*chain, name)), text)

    return {name: value(name) for name, text in raw.items() if _OPERATION.match(text)}


def manifest(documents: dict[str, str]) -> dict[str, Any]:
    """Apollo's persisted-query manifest for these documents, sorted by operation name."""
    operations = []
    for body in documents.values():
        definitions = parse(body).definitions
        operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
        name = operation.name.value if operation.name is not None else ""
        entry = {"id": sha256(body), "name": name, "type": operation.operation.value}
        operations.append({**entry, "body": body})
    operations.sort(key=lambda op: (op["name"], op["id"]))
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}


def manifest_bytes(documents: dict[str, str]) -> bytes:
    return orjson.dumps(manifest(documents), option=orjson.OPT_INDENT_2) + b"\n"


def cmd_trusted_documents(args: argparse.Namespace, settings: Settings) -> int:
    output = Path(args.output)
    content = manifest_bytes(portal_documents())
    if args.check:
        current = output.read_bytes() if output.exists() else b""
        if current != content:
            print(f"error: {output} is out of date: run billing-gateway trusted-documents")
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    count = len(orjson.loads(content)["operations"])
    print(f"wrote {output}: {count} operations", file=sys.stdout)
    return 0


def add_trusted_commands(sub: Any) -> None:
    trusted = sub.add_parser(
        "trusted-documents", help="write the portal's trusted-documents manifest (JSON)"
    )
    trusted.add_argument("--output", default=str(PORTAL_MANIFEST), help="default: %(default)s")
    trusted.add_argument("--check", action="store_true", help="exit 1 if the file differs")
    trusted.set_defaults(func=cmd_trusted_documents)
