"""The per-request GraphQL context: who calls, the services' dependencies, the loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from resolvers.loaders import Loaders
from schema.limits import RequestPolicy
from services.auth import Principal
from services.context import ServiceContext
from services.errors import BillingError, Unauthenticated


@dataclass
class Context:
    services: ServiceContext
    principal: Principal | None
    auth_error: BillingError | None = None
    request_id: str = ""
    loaders: Loaders = field(default_factory=Loaders)
    documents: object | None = None  # link signer, once documents are wired in
    request_policy: RequestPolicy = field(default_factory=RequestPolicy)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise self.auth_error or Unauthenticated()
        return self.principal


Info = strawberry.Info[Context, None]
