"""GraphQL in → service call → GraphQL out. DataLoaders live here, one set per request."""
