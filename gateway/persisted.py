"""Automatic Persisted Queries (Apollo's protocol) and ETags for GET persisted queries.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}` and no
query; an unknown hash answers the request error `PERSISTED_QUERY_NOT_FOUND` (message
`PersistedQueryNotFound`, what Apollo's link looks for), and the client sends the
query with its hash once, which registers it if the hash is the query's SHA-256
(else `PERSISTED_QUERY_INVALID`). Queries travel over GET too, so HTTP caches can
hold them. The registry is per process and bounded in documents and in bytes (least
recently used out), and keeps only documents that would run (they parse within the token
cap and validate): with several processes a client may register a query once per process.

ETags: a GET for a persisted query whose every field is in `COVERED` answers an ETag
built from the caller (principal, key, role, accounts), the query's hash, operation
name, variables, the response media type, the day (a card's EXPIRED status follows
the clock by month), the schema, the payment provider's public configuration (set by
the deploy), and the position of the billing-event log and the payments of the
caller's accounts (services/freshness.py), read before the query runs.
A matching `If-None-Match` is answered `304 Not Modified` without executing the query,
with `Cache-Control: private, no-cache`: a shared cache never holds it, a browser always
revalidates. Fields whose changes the event log does not record (usage, notifications,
overage and notification settings, webhook endpoints, the event pages themselves,
expiring document links, `node`, the plan catalog) make the query uncacheable: it runs
every time and answers no ETag.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    print_schema,
    validate,
    visit,
)
from graphql.error import GraphQLSyntaxError

from schema.limits import Limits
from services.auth import Principal
from services.freshness import log_position

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"
MAX_QUERIES = 5_000
#: The registry's whole text, least recently used out: a document may weigh up to the
#: body cap (comments and spaces are not tokens), so a count alone let 5,000 of them
#: take half a gigabyte of a process.
MAX_BYTES = 8 * 1024 * 1024
DEFAULT_LIMITS = Limits()
_SHA256 = re.compile(r"[0-9a-f]{64}")

_MONEY = {"amount", "currency", "formatted"}
#: The fields a 304 may stand for: every change to them commits with a billing event of
#: the account it belongs to (or they never change once written). Anything else,
#: including fields added later, makes a query uncacheable until listed here.
COVERED: dict[str, set[str]] = {
    "Query": {"viewer", "account", "paymentProvider"},
    "Viewer": {"role", "account", "accounts"},
    "Account": {
        *("id", "name", "email", "tier", "selfServiceEnabled", "subscription"),
        *("paymentMethods", "defaultPaymentMethod", "billingInfo", "invoices"),
        "outstandingBalance",
    },
    "AccountConnection": {"edges", "pageInfo", "totalCount", "nodes"},
    "AccountEdge": {"cursor", "node"},
    "Subscription": {
        *("id", "status", "currentPeriodStart", "currentPeriodEnd", "cancelAtPeriodEnd"),
        *("cancellationReason", "paidFeaturesEnabled", "nextBillingDate", "pendingChange"),
        *("plan", "nextBillingAmount"),
    },
    "PendingPlanChange": {"plan", "effectiveAt"},
    # Plan rows are never edited by the application (a new price is a new plan).
    "Plan": {"id", "code", "name", "tier", "price", "interval"},
    "InvoiceConnection": {"edges", "pageInfo", "totalCount", "nodes"},
    "InvoiceEdge": {"cursor", "node"},
    "Invoice": {
        *("id", "number", "status", "periodStart", "periodEnd", "issuedAt", "dueAt"),
        *("paidAt", "subtotal", "tax", "total", "amountPaid", "amountDue", "lines"),
        *("payments", "billingInfo"),
    },
    "InvoiceLine": {"description", "quantity", "unitAmount", "amount"},
    "Payment": {
        *("id", "amount", "status", "failureCode", "failureMessage", "createdAt"),
        *("nextAction", "paymentMethod"),
    },
    "NextAction": {"type", "redirectUrl", "clientSecret"},
    "PaymentMethod": {
        *("id", "brand", "last4", "expMonth", "expYear", "funding", "isDefault"),
        *("createdAt", "status", "billingAddress"),
    },
    "Money": _MONEY,
    "BillingInfo": {"name", "email", "address", "taxId"},
    "Address": {"line1", "line2", "city", "state", "postalCode", "country"},
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
    "PaymentProviderConfig": {"name", "publishableKey", "jsUrl"},
}


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


def persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256Hash of an APQ request, None when it is not one; refuses a malformed one."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    version = persisted.get("version") if isinstance(persisted, dict) else None
    if isinstance(version, bool) or version != 1:  # True == 1 in Python, not in JSON
        raise PersistedQueryError(
            PERSISTED_QUERY_INVALID, "Only persistedQuery version 1 is supported."
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise PersistedQueryError(
            PERSISTED_QUERY_INVALID, "persistedQuery.sha256Hash must be 64 lowercase hex digits."
        )
    return digest


class PersistedQueries:
    """One process's registry of persisted queries, and what it knows of each."""

    def __init__(
        self,
        schema: GraphQLSchema,
        max_queries: int = MAX_QUERIES,
        *,
        max_bytes: int = MAX_BYTES,
        max_tokens: int = DEFAULT_LIMITS.max_tokens,
    ) -> None:
        self.schema = schema
        self.max_queries = max_queries
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self._queries: OrderedDict[str, str] = OrderedDict()
        self.stored_bytes = 0
        #: Trusted documents (gateway/trusted.py): registered up front, never evicted.
        self._pinned: dict[str, str] = {}
        #: Per document, whether a 304 may stand for each of its operations (by name).
        self._cacheable: dict[str, dict[str | None, bool]] = {}
        self.schema_version = hashlib.sha256(print_schema(schema).encode()).hexdigest()[:16]

    def pin(self, documents: dict[str, str]) -> None:
        """Register trusted documents (hash -> text, verified) for the process's lifetime."""
        self._pinned.update(documents)

    def resolve(self, query: str | None, digest: str) -> str:
        """The query for an APQ request: the registered one, or the one sent (registered
        when it would run: it parses within the token cap and validates, as Apollo Server
        stores only such documents)."""
        if query is None and digest in self._pinned:
            return self._pinned[digest]
        if query is None:
            known = self._queries.get(digest)
            if known is None:
                raise PersistedQueryError(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
            self._queries.move_to_end(digest)
            return known
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError(
                PERSISTED_QUERY_INVALID, "persistedQuery.sha256Hash is not the query's SHA-256."
            )
        if digest in self._queries:
            self._queries.move_to_end(digest)
        elif digest not in self._pinned and self._runs(query):
            self._queries[digest] = query
            self.stored_bytes += len(query.encode())
            while len(self._queries) > self.max_queries or self.stored_bytes > self.max_bytes:
                gone, text = self._queries.popitem(last=False)
                self.stored_bytes -= len(text.encode())
                self._cacheable.pop(gone, None)
        return query

    def _runs(self, query: str) -> bool:
        if len(query.encode()) > self.max_bytes:
            return False
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLSyntaxError:
            return False
        return not validate(self.schema, document)

    @property
    def verdicts(self) -> int:
        """How many cacheability verdicts are remembered (bounded by the documents)."""
        return sum(len(known) for known in self._cacheable.values())

    def cacheable(self, digest: str, query: str, operation_name: str | None) -> bool:
        """Whether a 304 may stand for this operation: a query reading COVERED fields only.
        Only a registered document's, and only for an operationName it has: a verdict per
        name a caller makes up would grow without bound."""
        if digest not in self._queries and digest not in self._pinned:
            return False
        known = self._cacheable.setdefault(digest, {})
        verdict = known.get(operation_name)
        if verdict is None:
            verdict = _reads_covered_only(self.schema, query, operation_name)
            if verdict or operation_name is None or _names(query, operation_name):
                known[operation_name] = verdict
        return verdict

    async def etag(
        self,
        principal: Principal,
        digest: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        media_type: str,
        now: datetime,
        settings: Sequence[str] = (),
    ) -> str:
        """Read the caller's log position (one statement) and build the ETag. `settings`:
        what an answer may show of the process's configuration (the payment provider's
        public keys), which a deploy changes without any event."""
        position = await log_position(principal.account_ids)
        material = orjson.dumps(
            [
                self.schema_version,
                principal.caller,
                principal.key_id,
                principal.role.value,
                sorted(principal.account_ids),
                sorted(principal.writable_account_ids),
                digest,
                operation_name,
                variables or {},
                media_type,
                now.date().isoformat(),
                list(settings),
                position,
            ],
            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
        )
        return f'W/"{hashlib.sha256(material).hexdigest()[:40]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison against an If-None-Match list (`*` is not honoured: no 304 blind)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def _names(query: str, operation_name: str) -> bool:
    """Whether the document has an operation called `operation_name`."""
    return any(
        isinstance(d, OperationDefinitionNode)
        and d.name is not None
        and d.name.value == operation_name
        for d in parse(query).definitions
    )


def _reads_covered_only(schema: GraphQLSchema, query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    type_info = TypeInfo(schema)
    checker = _CoveredFields(type_info)
    visit(document, TypeInfoVisitor(type_info, checker))
    return checker.covered


class _CoveredFields(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.covered = True

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        if name == "__typename":
            return
        parent = self.type_info.get_parent_type()
        if parent is None or name not in COVERED.get(parent.name, ()):
            self.covered = False
