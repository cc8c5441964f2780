"""Trusted documents: an allow-list of GraphQL documents for first-party SPAs.

The manifest is Apollo's persisted-query manifest (what `generate-persisted-query-manifest`
and `billing-gateway trusted-documents` write)::

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "...", "type": "query", "body": "..."}]}

Every id must be the SHA-256 of its body: a manifest where one is not is refused at
start-up (one line), because an id that names another text would let a client run a
document nobody reviewed under a trusted hash.

Modes (`BILLING_TRUSTED_DOCUMENTS`): `off` ignores the manifest; `allow` pre-registers its
documents as persisted queries (their hashes work without the first full-text round trip;
any other query still runs); `require` runs only trusted documents for the principal kinds
in `BILLING_TRUSTED_DOCUMENTS_REQUIRED_FOR` (by default browser tokens and anonymous
callers; API keys, which partner and back-office integrations use with their own
queries, are exempt and behave as in `allow`). A refused document is a request error with
code `DOCUMENT_NOT_TRUSTED`, answered 400 before anything executes; registering a new
document through APQ is refused the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from graphql import GraphQLError

from gateway.persisted import PERSISTED_QUERY_INVALID, PersistedQueryError
from services.auth import Principal

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
#: The portal's manifest, shipped with the package (`billing-gateway trusted-documents`).
PORTAL_MANIFEST = Path(__file__).resolve().parent / "portal" / "trusted-documents.json"

Mode = Literal["off", "allow", "require"]
PrincipalKind = Literal["token", "api_key", "anonymous"]

_NOT_TRUSTED = (
    "Only trusted documents run for this caller: send a document from the gateway's "
    "trusted-documents manifest, by its hash or its exact text."
)


class ManifestError(ValueError):
    """A manifest that cannot be trusted; the message is one line."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """The manifest's documents by hash; refuses an unreadable or inconsistent file."""
    where = f"trusted-documents manifest {path}"
    try:
        payload: Any = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError:
        raise ManifestError(f"{where}: not valid JSON") from None
    if not isinstance(payload, dict) or payload.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'{where}: "format" must be "{MANIFEST_FORMAT}"')
    if payload.get("version") != 1:
        raise ManifestError(f'{where}: only "version": 1 is supported')
    operations = payload.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ManifestError(f'{where}: "operations" must be a non-empty list')
    documents: dict[str, str] = {}
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ManifestError(f"{where}: operation {index} is not an object")
        digest, body = operation.get("id"), operation.get("body")
        label = f"operation {index} ({operation.get('name') or 'unnamed'})"
        if not isinstance(digest, str) or not isinstance(body, str) or not body.strip():
            raise ManifestError(f'{where}: {label} needs a string "id" and "body"')
        if sha256(body) != digest:
            raise ManifestError(f"{where}: {label} has an id that is not the SHA-256 of its body")
        documents[digest] = body
    return documents


def principal_kind(principal: Principal | None) -> PrincipalKind:
    """An API key (its own id), a signed-in browser token (OIDC), or nobody."""
    if principal is None:
        return "anonymous"
    return "api_key" if principal.key_id is not None else "token"


@dataclass(frozen=True)
class TrustedDocuments:
    """The mode, who it binds, and the manifest's documents by hash."""

    mode: Mode = "off"
    required_for: frozenset[PrincipalKind] = frozenset()
    documents: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls, mode: Mode, manifest: Path | None, required_for: list[PrincipalKind]
    ) -> TrustedDocuments:
        """From the settings; reads and verifies the manifest unless the mode is off."""
        if mode == "off":
            return cls()
        return cls(mode, frozenset(required_for), load_manifest(manifest or PORTAL_MANIFEST))

    def required(self, principal: Principal | None) -> bool:
        """Whether this caller may run trusted documents only."""
        return self.mode == "require" and principal_kind(principal) in self.required_for

    def only_trusted(self, query: str | None, digest: str | None) -> str:
        """For a caller bound by `require`: the trusted document the request names (by hash,
        or by its exact text), else a refusal. A hash with a different text is invalid."""
        if digest is not None and query and sha256(query) != digest:
            raise PersistedQueryError(
                PERSISTED_QUERY_INVALID, "persistedQuery.sha256Hash is not the query's SHA-256."
            )
        trusted = self.documents.get(digest if digest is not None else sha256(query or ""))
        if trusted is None:
            raise PersistedQueryError(DOCUMENT_NOT_TRUSTED, _NOT_TRUSTED)
        return trusted

    def refusal(self, principal: Principal | None, query: str) -> GraphQLError | None:
        """For transports without APQ (subscriptions): the refusal of an untrusted text."""
        if self.required(principal) and sha256(query) not in self.documents:
            return GraphQLError(_NOT_TRUSTED, extensions={"code": DOCUMENT_NOT_TRUSTED})
        return None
